"""The OpenAPI document says exactly what the API does.

* It is a valid OpenAPI 3.1 document.
* Its operations are exactly the app's ``/api`` routes (both ways).
* Every documented status of every operation is provoked here by a real request, whose body
  is checked against the documented schema and whose documented headers are present; and the
  recipes below cover exactly the documented statuses, so documenting a status nobody can
  produce — or producing one that is not documented in a recipe — fails.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from werkzeug.test import TestResponse

from support.api import MEMBERSHIP_ANSWERS, Api
from web.api import openapi_document

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
AUTOMATIC_METHODS = {"HEAD", "OPTIONS"}  # added by Flask to every route, not operations
DOCUMENT = openapi_document()


def _operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method.upper()): operation
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def _documented_statuses() -> set[tuple[str, str, str]]:
    return {
        (path, method, status)
        for (path, method), operation in _operations(DOCUMENT).items()
        for status in operation["responses"]
        if status != "default"
    }


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z_]+:)?([a-z_]+)>", r"{\1}", rule)


def test_the_served_document_is_valid_openapi_3_1(api: Api) -> None:
    response = api.get("/api/openapi.json")

    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    validate(document)  # raises with the first problem
    assert document["servers"] == [{"url": "https://forms.example.org"}]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_operations_are_exactly_the_apps_api_routes(api: Api) -> None:
    routes = {
        (_openapi_path(rule.rule), method)
        for rule in api.app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in (rule.methods or set()) - AUTOMATIC_METHODS
    }

    assert routes == set(_operations(DOCUMENT))


def test_every_operation_documents_errors_with_the_error_schema() -> None:
    for (path, method), operation in _operations(DOCUMENT).items():
        assert "default" in operation["responses"], (path, method)
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")) or status == "default":
                schema = response["content"]["application/json"]["schema"]
                assert schema["$ref"].rsplit("/", 1)[1] in {
                    "Error", "ValidationError", "TransitionConflict"}, (path, method, status)


# -- provoking every documented status ------------------------------------------------------

Recipe = Callable[[Api], TestResponse]
SUBMIT = "/api/forms/{id}/submissions"
SUBMISSION = "/api/submissions/{id}"
FILE = "/api/submissions/{id}/files/{file_id}"
TRANSITIONS = "/api/submissions/{id}/transitions"


def _database_gone(api: Api) -> None:
    api.db.dispose()
    data = Path(str(api.db.sqlite_path)).parent
    data.rename(data.with_name("gone"))


def _unavailable(request: Recipe) -> Recipe:
    def recipe(api: Api) -> TestResponse:
        _database_gone(api)
        return request(api)
    return recipe


def _submitted(api: Api) -> dict[str, Any]:
    return api.submit()


def _staff(api: Api) -> str:
    return api.tokens["coordinator"]


def _file_url(api: Api) -> tuple[str, str]:
    """(url of a file answer, the applicant's token) of a funding application with a PDF."""
    answers = {
        "org_name": "Verein", "legal_form": "other", "contact_name": "Erika",
        "contact_email": "erika@example.org", "project_title": "P",
        "project_description": "D", "start_date": "2027-01-01", "end_date": "2027-02-01",
        "costs": [{"cost_item": "A", "cost_amount": 10}], "requested_amount": 5,
        "consent": True,
    }
    created = api.client.post(
        "/api/forms/funding/submissions", content_type="multipart/form-data",
        data={"answers": json.dumps(answers),
              "budget_plan": (io.BytesIO(b"%PDF-1.7\n%%EOF\n"), "plan.pdf")}).get_json()
    read = api.get(f"/api/submissions/{created['id']}", token=_staff(api)).get_json()
    return read["answers"]["budget_plan"][0]["url"], created["token"]


def _rate_limited(api: Api) -> TestResponse:
    api.app.config["RATELIMIT_SUBMISSIONS"] = "1 per minute"
    api.submit()
    return api.post("/api/forms/membership/submissions", {"answers": MEMBERSHIP_ANSWERS})


def _closed(api: Api) -> TestResponse:
    """The membership form republished with its window already past."""
    from engine.services import export_definition, import_definition, publish_form
    from web.db import get_db

    db = get_db(api.app)
    data = export_definition(db, "form", "membership")
    import_definition(db, {**data, "closes_at": "2020-01-01T00:00"}, "form")
    publish_form(db, "membership")
    return api.post("/api/forms/membership/submissions", {"answers": MEMBERSHIP_ANSWERS})


def _huge(path: str) -> Recipe:
    def recipe(api: Api) -> TestResponse:
        return api.client.post(path, data="x" * (300 * 1024), content_type="application/json",
                               headers={"Authorization": f"Bearer {_staff(api)}"})
    return recipe


RECIPES: dict[tuple[str, str, str], Recipe] = {
    ("/api/openapi.json", "GET", "200"): lambda api: api.get("/api/openapi.json"),
    ("/api/forms", "GET", "200"): lambda api: api.get("/api/forms"),
    ("/api/forms", "GET", "503"): _unavailable(lambda api: api.get("/api/forms")),
    ("/api/forms/{id}", "GET", "200"): lambda api: api.get("/api/forms/membership"),
    ("/api/forms/{id}", "GET", "404"): lambda api: api.get("/api/forms/nope"),
    ("/api/forms/{id}", "GET", "503"): _unavailable(lambda api: api.get("/api/forms/club")),
    (SUBMIT, "POST", "201"): lambda api: api.post(
        "/api/forms/membership/submissions", {"answers": MEMBERSHIP_ANSWERS}),
    (SUBMIT, "POST", "400"): lambda api: api.client.post(
        "/api/forms/membership/submissions", data="{", content_type="application/json"),
    (SUBMIT, "POST", "404"): lambda api: api.post("/api/forms/nope/submissions", {}),
    (SUBMIT, "POST", "409"): _closed,
    (SUBMIT, "POST", "413"): _huge("/api/forms/membership/submissions"),
    (SUBMIT, "POST", "422"): lambda api: api.post(
        "/api/forms/membership/submissions", {"answers": {}, "language": "en"}),
    (SUBMIT, "POST", "429"): _rate_limited,
    (SUBMIT, "POST", "503"): _unavailable(lambda api: api.post(
        "/api/forms/membership/submissions", {"answers": MEMBERSHIP_ANSWERS})),
    (SUBMISSION, "GET", "200"): lambda api: api.get(
        f"/api/submissions/{(s := _submitted(api))['id']}", token=s["token"]),
    (SUBMISSION, "GET", "401"): lambda api: api.get(
        f"/api/submissions/{_submitted(api)['id']}"),
    (SUBMISSION, "GET", "403"): lambda api: api.get(
        f"/api/submissions/{_submitted(api)['id']}", token=_submitted(api)["token"]),
    (SUBMISSION, "GET", "404"): lambda api: api.get("/api/submissions/nope", token=_staff(api)),
    (SUBMISSION, "GET", "503"): _unavailable(lambda api: api.get(
        "/api/submissions/nope", token="whatever")),
    (FILE, "GET", "200"): lambda api: api.get(_file_url(api)[0], token=_staff(api)),
    (FILE, "GET", "401"): lambda api: api.get(_file_url(api)[0]),
    (FILE, "GET", "403"): lambda api: api.get(_file_url(api)[0], token=_submitted(api)["token"]),
    (FILE, "GET", "404"): lambda api: api.get(
        f"/api/submissions/{_submitted(api)['id']}/files/nope", token=_staff(api)),
    (FILE, "GET", "503"): _unavailable(lambda api: api.get(
        "/api/submissions/x/files/y", token="whatever")),
    (TRANSITIONS, "POST", "200"): lambda api: api.fire(_submitted(api)["id"], "review"),
    (TRANSITIONS, "POST", "400"): lambda api: api.post(
        f"/api/submissions/{_submitted(api)['id']}/transitions", {}, token=_staff(api)),
    (TRANSITIONS, "POST", "401"): lambda api: api.post(
        f"/api/submissions/{_submitted(api)['id']}/transitions", {"transition": "review"}),
    (TRANSITIONS, "POST", "403"): lambda api: api.fire(
        _submitted(api)["id"], "review", role="treasurer"),
    (TRANSITIONS, "POST", "404"): lambda api: api.fire("nope", "review"),
    (TRANSITIONS, "POST", "409"): lambda api: api.fire(_submitted(api)["id"], "accept"),
    (TRANSITIONS, "POST", "413"): _huge("/api/submissions/x/transitions"),
    (TRANSITIONS, "POST", "422"): lambda api: api.fire(_submitted(api)["id"], "reject"),
    (TRANSITIONS, "POST", "503"): _unavailable(lambda api: api.post(
        "/api/submissions/x/transitions", {"transition": "review"}, token="whatever")),
}


def test_the_recipes_cover_exactly_the_documented_statuses() -> None:
    assert set(RECIPES) == _documented_statuses()


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    """Validates against ``schema`` with the document's components resolvable by ``$ref``."""
    return Draft202012Validator({**schema, "components": DOCUMENT["components"]})


@pytest.mark.parametrize("case", sorted(RECIPES), ids=lambda case: " ".join(case))
def test_each_documented_status_is_real_with_the_documented_body(
    api: Api, case: tuple[str, str, str]
) -> None:
    path, method, status = case
    documented = _operations(DOCUMENT)[(path, method)]["responses"][status]

    response = RECIPES[case](api)

    assert response.status_code == int(status), response.get_data(as_text=True)
    if "application/json" not in documented["content"]:  # a file: its bytes, not JSON
        assert response.headers["Content-Disposition"].startswith("attachment;")
        return
    assert response.mimetype == "application/json"
    schema = documented["content"]["application/json"]["schema"]
    errors = [e.message for e in _validator(schema).iter_errors(response.get_json())]
    assert errors == [], errors
    for header in documented.get("headers", {}):
        assert header in response.headers, header
