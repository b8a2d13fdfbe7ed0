"""Every route of the app, every method, every kind of caller: allowed or denied, explicitly.

The table below is THE place that says who may reach what. The test walks ``app.url_map`` as
it is when the test runs, so a route someone adds later fails this test until it is given a
row here — deciding who may use a new page is part of adding it.

Callers (each keeps its own cookie jar for the whole walk):

* ``anonymous`` — no session, no token;
* ``applicant`` — no session, but holds a submission's token (``Authorization: Bearer`` for
  the API, and in the URL of ``/status/<token>``) and a draft's resume token;
* ``coordinator`` / ``admin`` — signed in through the login form, and an API token each.

Outcomes: ``ok`` (served: any answer but the ones below), ``login`` (302 to the login page),
``denied`` (401 or 403) and ``hidden`` (404: a secret URL without the right secret). Every
POST carries a valid CSRF token, so a refusal is about WHO asks, never about a missing token.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.services import Database, create_api_token, published_form, save_draft, submit
from support.coordinator import ADMIN, COORDINATOR, Staff, answers
from support.signin import csrf_field

ROLES = ("anonymous", "applicant", "coordinator", "admin")

OK, LOGIN, DENIED, HIDDEN = "ok", "login", "denied", "hidden"
PUBLIC = (OK, OK, OK, OK)
STAFF_PAGE = (LOGIN, LOGIN, OK, OK)
ADMIN_PAGE = (LOGIN, LOGIN, DENIED, OK)

# (endpoint, method) -> expected outcome for (anonymous, applicant, coordinator, admin)
EXPECTED: dict[tuple[str, str], tuple[str, str, str, str]] = {
    ("static", "GET"): PUBLIC,
    ("healthz", "GET"): PUBLIC,
    ("schemas.schema", "GET"): PUBLIC,  # the definitions' JSON Schemas
    # applicants' pages: public; secret links only with the right secret
    ("applicant.start", "GET"): PUBLIC,
    ("applicant.begin", "GET"): PUBLIC,
    ("applicant.step", "GET"): PUBLIC,
    ("applicant.step", "POST"): PUBLIC,
    ("applicant.review", "GET"): PUBLIC,
    ("applicant.submit_form", "POST"): PUBLIC,
    ("applicant.start_new", "POST"): PUBLIC,
    ("applicant.saved", "GET"): PUBLIC,
    ("applicant.confirmation", "GET"): PUBLIC,
    ("applicant.definition_file", "GET"): PUBLIC,
    ("applicant.resume_draft", "GET"): (HIDDEN, OK, HIDDEN, HIDDEN),
    ("applicant.status", "GET"): (HIDDEN, OK, HIDDEN, HIDDEN),
    ("applicant.status_data", "GET"): (HIDDEN, OK, HIDDEN, HIDDEN),
    # JSON API
    ("api.openapi_json", "GET"): PUBLIC,
    ("api.list_forms", "GET"): PUBLIC,
    ("api.read_form", "GET"): PUBLIC,
    ("api.create_submission", "POST"): PUBLIC,
    ("api.read_submission", "GET"): (DENIED, OK, OK, OK),
    # a file of the submission (none here: the callers who may read it are told 404)
    ("api.read_submission_file", "GET"): (DENIED, HIDDEN, HIDDEN, HIDDEN),
    ("api.create_transition", "POST"): (DENIED, DENIED, OK, OK),
    # sign-in (logout always ends on the login page, signed in or not)
    ("auth.login", "GET"): PUBLIC,
    ("auth.login", "POST"): PUBLIC,
    ("auth.logout", "POST"): (LOGIN, LOGIN, LOGIN, LOGIN),
    # the second step of a sign-in: only with a pending one (else back to the login page)
    ("login_steps.code", "GET"): (LOGIN, LOGIN, LOGIN, LOGIN),
    ("login_steps.code", "POST"): (LOGIN, LOGIN, LOGIN, LOGIN),
    ("login_steps.enrol", "GET"): (LOGIN, LOGIN, LOGIN, LOGIN),
    ("login_steps.enrol", "POST"): (LOGIN, LOGIN, LOGIN, LOGIN),
    # passwords: asking for a link is public; a link page only with a valid link's secret
    ("password.forgot", "GET"): PUBLIC,
    ("password.forgot", "POST"): PUBLIC,
    ("password.set_form", "GET"): (HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    ("password.set_password", "POST"): (HIDDEN, HIDDEN, HIDDEN, HIDDEN),
    # one's own account: any signed-in staff user
    ("account.page", "GET"): STAFF_PAGE,
    ("account.password", "POST"): STAFF_PAGE,
    ("account.two_factor", "GET"): STAFF_PAGE,
    ("account.two_factor", "POST"): STAFF_PAGE,
    # coordinators' pages
    ("coordinator.inbox", "GET"): STAFF_PAGE,
    ("coordinator.export_csv", "GET"): STAFF_PAGE,
    ("coordinator.export_json", "GET"): STAFF_PAGE,
    ("coordinator.export_xlsx", "GET"): STAFF_PAGE,
    ("coordinator.bulk", "POST"): STAFF_PAGE,
    ("coordinator.save_current_view", "POST"): STAFF_PAGE,
    # nobody's view: staff get 404 (a view of another user is never theirs to delete)
    ("coordinator.delete_saved_view", "POST"): (LOGIN, LOGIN, HIDDEN, HIDDEN),
    ("coordinator.submission", "GET"): STAFF_PAGE,
    ("coordinator.submission_file_download", "GET"): (LOGIN, LOGIN, HIDDEN, HIDDEN),
    ("coordinator.act", "POST"): STAFF_PAGE,
    ("coordinator.assign", "POST"): STAFF_PAGE,
    ("coordinator.personal_data", "GET"): STAFF_PAGE,
    # erasure: administrators (coordinators only where FORMFLOW_COORDINATORS_MAY_ERASE);
    # the walk's POST has no reason, so the administrator gets the form back (nothing erased)
    ("coordinator.erase", "POST"): ADMIN_PAGE,
    ("reports.statistics", "GET"): STAFF_PAGE,
    ("reports.print_view", "GET"): STAFF_PAGE,
    ("reports.print_pdf", "GET"): STAFF_PAGE,
    # administration (web/admin): administrators only; a user or token that does not exist
    # (the sample ids below) is 404 for them
    **{(endpoint, method): ADMIN_PAGE for endpoint, method in (
        ("admin.index", "GET"), ("admin.definitions", "GET"), ("admin.import_file", "POST"),
        ("admin.new_definition", "POST"), ("admin.export", "GET"), ("admin.versions", "GET"),
        ("admin.publish_version", "POST"), ("admin.diff", "GET"), ("admin.edit", "GET"),
        ("admin.draft", "GET"), ("admin.draft", "POST"), ("admin.discard", "POST"),
        ("admin.check", "POST"), ("admin.changes", "POST"), ("admin.publish", "POST"),
        ("admin.form_what_if", "POST"), ("admin.workflow_what_if", "POST"),
        ("admin.form_preview", "POST"),
        ("admin.diagram", "POST"), ("admin.users", "GET"), ("admin.create", "POST"),
        ("admin.notifications", "GET"), ("admin.audit", "GET"), ("admin.audit_csv", "GET"),
        ("admin.workflow_moves", "GET"), ("admin.move_workflow_submissions", "POST"),
    )},
    **{("admin." + endpoint, "POST"): (LOGIN, LOGIN, DENIED, HIDDEN)
       for endpoint in ("roles", "active", "new_token", "revoke", "retry_notification_view",
                        "send_link", "reset_two_factor")},
}

LAST = {"auth.logout"}
"""Endpoints walked after all others (logging out ends the caller's session)."""


class Caller:
    def __init__(self, role: str, client: FlaskClient, bearer: str | None,
                 tokens: dict[str, str]) -> None:
        self.role = role
        self.client = client
        self.bearer = bearer
        self.tokens = tokens
        """URL ``<token>`` values by endpoint (the applicant's secrets; garbage for others)."""

    def csrf(self) -> dict[str, str]:
        page = "/inbox" if self.role in ("coordinator", "admin") else "/login"
        return csrf_field(self.client.get(page).get_data(as_text=True))


def _url_values(rule: Any, caller: Caller, ids: dict[str, str]) -> dict[str, str]:
    values = {}
    for name in rule.arguments:
        if name == "token":
            values[name] = caller.tokens.get(rule.endpoint, "not-a-valid-token")
        elif name == "filename":
            values[name] = "coordinator.css"
        elif name == "name" and rule.rule.startswith("/schemas/"):
            values[name] = "form"
        elif name in ("form_id",) or (name == "id" and "/forms/" in rule.rule):
            values[name] = "grant"
        elif name == "step_id":
            values[name] = "person"
        elif name in ("id", "submission_id"):
            values[name] = ids["submission"]
        elif name == "kinds":
            values[name] = "forms"
        elif name == "definition_id" and rule.rule.startswith("/admin/workflows/"):
            values[name] = "triage"
        elif name == "definition_id":
            values[name] = "grant"
        elif name == "content_hash":
            values[name] = ids["grant_hash"]
        elif name == "version":
            values[name] = "1"
        elif name == "file_id":
            values[name] = "0" * 32  # no such file (tests/api/test_submission_files.py has)
        elif name in ("user_id", "token_id", "outbox_id", "view_id"):
            values[name] = "999999"  # nobody's: the administration answers 404
        else:
            raise AssertionError(f"{rule.rule}: no sample value for <{name}>; add one here")
    return values


def _request(caller: Caller, rule: Any, method: str, ids: dict[str, str]) -> TestResponse:
    from flask import url_for

    with caller.client.application.test_request_context():
        url = url_for(rule.endpoint, **_url_values(rule, caller, ids))
    headers = {"Authorization": f"Bearer {caller.bearer}"} if caller.bearer else {}
    if method == "GET":
        return caller.client.get(url, headers=headers)
    if rule.rule.startswith("/api/"):
        body = {"answers": answers(), "language": "de", "transition": "review",
                "comment": "ok", "expected_state": "submitted"}
        return caller.client.open(url, method=method, json=body, headers=headers)
    data = {**caller.csrf(), "transition": "review", "comment": "ok", "assignee": "me",
            "email": "nobody@example.org", "password": "wrong password"}
    return caller.client.open(url, method=method, data=data, headers=headers)


def _outcome(response: TestResponse) -> str:
    status = response.status_code
    location = response.headers.get("Location", "")
    if 300 <= status < 400 and re.match(r"^(https?://[^/]+)?/login(\?|$)", location):
        return LOGIN
    if status in (401, 403):
        return DENIED
    if status == 404:
        return HIDDEN
    return OK


def test_every_route_answers_every_caller_as_the_table_says(app: Flask, db: Database) -> None:
    created = submit(db, "grant", answers(), "de")
    draft = save_draft(db, "grant", {"name": "Ada"}, step="person", language="de")
    staff = Staff(app)
    coordinator_token, _ = create_api_token(db, COORDINATOR)
    admin_token, _ = create_api_token(db, ADMIN)
    applicant_tokens = {"applicant.status": created.token, "applicant.status_data": created.token,
                        "applicant.resume_draft": draft.token}
    callers = [
        Caller("anonymous", app.test_client(), None, {}),
        Caller("applicant", app.test_client(), created.token, applicant_tokens),
        Caller("coordinator", staff.client(COORDINATOR), coordinator_token, {}),
        Caller("admin", staff.client(ADMIN), admin_token, {}),
    ]
    ids = {"submission": created.id,
           "grant_hash": published_form(db, "grant")[0].content_hash}

    routes = []
    for rule in app.url_map.iter_rules():
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((rule, method))
    unknown = sorted(f"{r.endpoint} {m} {r.rule}" for r, m in routes
                     if (r.endpoint, m) not in EXPECTED)
    assert not unknown, (
        "routes without a row in EXPECTED (decide who may use them, then add them): "
        + ", ".join(unknown))
    stale = sorted(set(EXPECTED) - {(r.endpoint, m) for r, m in routes})
    assert not stale, f"EXPECTED names routes that no longer exist: {stale}"

    routes.sort(key=lambda item: (item[0].endpoint in LAST, item[0].endpoint, item[1]))
    mismatches = []
    for rule, method in routes:
        expected = EXPECTED[(rule.endpoint, method)]
        for caller, want in zip(callers, expected, strict=True):
            response = _request(caller, rule, method, ids)
            response.get_data()  # consume and close: a streamed export must finish like a
            response.close()     # real server would before the next request is made
            got = _outcome(response)
            if got != want:
                mismatches.append(
                    f"{caller.role:11} {method:4} {rule.rule}: expected {want}, got {got} "
                    f"({response.status_code} {response.headers.get('Location', '')})")
    assert not mismatches, "\n".join(mismatches)
