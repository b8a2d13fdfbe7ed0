"""Generated requests against the app's own OpenAPI document (Schemathesis).

Every operation of the document served at ``/api/openapi.json`` (``openapi_document()``; that
the app serves exactly it is checked below) gets requests generated from it — valid and
invalid bodies, path ids and headers — anonymously, with a coordinator's bearer token and with
an applicant's token; half of the path ids are replaced by real ones (a published form, a
submission made in the test) so that requests get past the 404. Whatever is sent:

* no answer is a 5xx;
* every answer conforms to the document: a documented status, content type, headers and body;
* a request the document calls valid is not refused as malformed, one it calls invalid is
  refused with a 4xx.

The budget is bounded (a few examples per operation; ``API_FUZZ_EXAMPLES``) so that the module
stays well under a minute on CI. Answers the document cannot predict are allowed by
configuration below, each with its reason.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from support.api import MEMBERSHIP_ANSWERS, Api
from web.api import openapi_document

# Examples per operation and test; raise API_FUZZ_EXAMPLES locally to search longer.
MAX_EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "20"))
MAX_EXAMPLES_POSTGRESQL = max(1, MAX_EXAMPLES * 2 // 5)

CONFIG = schemathesis.Config.from_dict({
    "generation": {"mode": "all"},
    "operations": [
        {
            # Answers and transitions are checked against the form's definition and the
            # workflow (a required answer missing, a comment the transition requires): a 422
            # for a body the document's generic shape allows.
            "include-name": [
                "POST /api/forms/{id}/submissions",
                "POST /api/submissions/{id}/transitions",
            ],
            "checks": {"positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "422", "429"],
            }},
        },
    ],
})



class CurrentApp:
    """The WSGI app the generated requests go to: the running test's app (each test has its
    own app and database, while the schema and its operations are made once, at import)."""

    app: Flask | None = None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None, "the test did not use the current_app fixture"
        return self.app(environ, start_response)


CURRENT_APP = CurrentApp()
schema = schemathesis.openapi.from_dict(openapi_document(), config=CONFIG)
schema.app = CURRENT_APP  # what from_wsgi sets; the checks' own probes are sent there too

REALISM = st.sampled_from(("generated", "real id", "real body"))
REAL_TRANSITIONS = ("review", "accept", "reject")  # the membership form's workflow
BUDGET = settings(max_examples=MAX_EXAMPLES, deadline=None,
                  suppress_health_check=list(HealthCheck))


def test_the_app_serves_the_document_under_test(api: Api) -> None:
    served = api.get("/api/openapi.json").get_json()

    assert {**served, "servers": None} == {**openapi_document(), "servers": None}


@pytest.fixture
def real_ids(api: Api) -> Iterator[dict[str, str]]:
    """A real id for each kind of path (a published form, a submission made now); the
    generated requests go to ``api.app`` meanwhile."""
    CURRENT_APP.app = api.app
    yield {"/api/forms": "membership", "/api/submissions": api.submit()["id"]}
    CURRENT_APP.app = None


def _send(case: schemathesis.Case, api: Api, real_ids: dict[str, str], realism: str,
          token: str | None) -> None:
    """Send ``case`` (with ``token``, if any): as generated, or to a real form or submission
    (``real id``), whose body's answers or transition are made real too (``real body``)."""
    if realism != "generated" and "id" in (case.path_parameters or {}):
        prefix = "/api/forms" if case.path.startswith("/api/forms") else "/api/submissions"
        case.path_parameters = {**(case.path_parameters or {}), "id": real_ids[prefix]}
        if realism != "real body" or not isinstance(case.body, dict):
            pass
        elif case.path.endswith("/submissions"):
            case.body = {**case.body, "answers": MEMBERSHIP_ANSWERS}
        elif case.path.endswith("/transitions"):
            case.body = {**case.body, "transition": REAL_TRANSITIONS[len(str(case.body)) % 3]}
    headers = {"Authorization": f"Bearer {token}"} if token is not None else None
    case.call_and_validate(headers=headers)


@schema.parametrize()
@schema.given(realism=REALISM)
@BUDGET
def test_anonymous_requests(case: schemathesis.Case, realism: str, api: Api,
                            real_ids: dict[str, str]) -> None:
    _send(case, api, real_ids, realism, token=None)


@schema.parametrize()
@schema.given(realism=REALISM)
@BUDGET
def test_coordinator_requests(case: schemathesis.Case, realism: str, api: Api,
                              real_ids: dict[str, str]) -> None:
    _send(case, api, real_ids, realism, token=api.tokens["coordinator"])


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
@schema.parametrize()
@schema.given(realism=REALISM)
@settings(BUDGET, max_examples=MAX_EXAMPLES_POSTGRESQL)
def test_coordinator_requests_on_postgresql(case: schemathesis.Case, realism: str, api: Api,
                                            real_ids: dict[str, str]) -> None:
    """The same, fewer, on PostgreSQL (its own errors: integer ranges, text encoding)."""
    _send(case, api, real_ids, realism, token=api.tokens["coordinator"])


@schema.include(path_regex="^/api/submissions/").parametrize()
@schema.given(realism=REALISM)
@BUDGET
def test_applicant_requests(case: schemathesis.Case, realism: str, api: Api,
                            real_ids: dict[str, str]) -> None:
    token = api.submit()["token"]
    _send(case, api, real_ids, realism, token=token)


def test_generated_requests_reach_past_the_404(api: Api, real_ids: dict[str, Any]) -> None:
    """The real ids do what they are for: the submission exists for the coordinator."""
    token = api.tokens["coordinator"]
    assert api.get(f"/api/submissions/{real_ids['/api/submissions']}", token=token).status_code \
        == 200
    assert api.get(f"/api/forms/{real_ids['/api/forms']}").status_code == 200
