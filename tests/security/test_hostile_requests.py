"""The hostile corpus at the edge: requests an outsider (or a token without the right role)
sends to the running app, on SQLite and PostgreSQL (issue 14).

Each request is answered with a 4xx, nothing of it is stored (rows counted before and after),
and afterwards the staff pages — the inbox, a submission's page, the API's submission and the
exports — still answer 200. A row stored before such text was refused (written here with SQL,
as an older version could have) is shown with U+FFFD in its place, never a 500.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from engine.services import MAX_COMMENT_LENGTH
from support.api import MEMBERSHIP_ANSWERS, STAFF, Api
from support.hostile_web import PASSWORD, assert_staff_pages_answer, counts
from support.postgres import BOTH_BACKENDS
from support.signin import csrf_field, signed_in

pytestmark = BOTH_BACKENDS

SUBMIT = "/api/forms/membership/submissions"


# -- the API ---------------------------------------------------------------------------------

HOSTILE_BODIES = [
    pytest.param(b'{"answers": {"name": "x\xed\xa0\x80"}}', 400, id="encoded-surrogate"),
    pytest.param(b'{"answers": {"name": "x\\ud800"}}', 422, id="escaped-surrogate"),
    pytest.param(b'{"answers": {"name": "x\\u0000"}}', 422, id="nul"),
    pytest.param(b'{"answers": {"name": "x\\u001b[31m"}}', 422, id="escape-control"),
    pytest.param(b'{"answers": {"name": "x\xff"}}', 400, id="not-utf-8"),
    pytest.param(b'{"answers": ' + b"[" * 5000 + b"]" * 5000 + b"}", 400, id="nested-5000"),
    pytest.param(b'{"answers": {"name": 1e400}}', 422, id="infinite-number"),
]


@pytest.mark.parametrize(("body", "status"), HOSTILE_BODIES)
def test_hostile_submissions_are_refused_and_nothing_is_stored(
    api: Api, staff: FlaskClient, sql: Any, body: bytes, status: int
) -> None:
    existing = api.submit()["id"]
    before = counts(sql)

    response = api.client.post(
        SUBMIT, data=body, content_type="application/json"
    )

    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert counts(sql) == before
    assert_staff_pages_answer(api, staff, existing)


COMMENTS = [
    pytest.param("x" * (MAX_COMMENT_LENGTH + 1), id="too-long"),
    pytest.param("x\ud800", id="lone-surrogate"),
    pytest.param("x\x00y", id="nul"),
]


@pytest.mark.parametrize("comment", COMMENTS)
def test_hostile_transition_comments_are_422_and_nothing_is_stored(
    api: Api, staff: FlaskClient, sql: Any, comment: str
) -> None:
    created = api.submit()["id"]
    before = counts(sql)

    response = api.client.post(  # json.dumps escapes a lone surrogate as \ud800
        f"/api/submissions/{created}/transitions",
        data=json.dumps({"transition": "reject", "comment": comment}),
        content_type="application/json",
        headers={"Authorization": f"Bearer {api.tokens['coordinator']}"},
    )

    assert response.status_code == 422
    assert response.get_json()["error"] == "comment_invalid"
    assert response.get_json()["errors"]["comment"]
    assert counts(sql) == before
    assert_staff_pages_answer(api, staff, created)


def test_a_comment_of_exactly_the_limit_is_stored(api: Api) -> None:
    created = api.submit()["id"]
    response = api.fire(created, "reject", comment="x" * MAX_COMMENT_LENGTH)
    assert response.status_code == 200


@pytest.mark.parametrize("comment", COMMENTS[:1] + COMMENTS[2:])  # a form post has no surrogates
def test_hostile_comments_on_the_page_are_a_field_error(
    api: Api, staff: FlaskClient, sql: Any, comment: str
) -> None:
    created = api.submit()["id"]
    page = staff.get(f"/inbox/{created}").get_data(as_text=True)
    before = counts(sql)

    for action in ({"comment_only": "1"}, {"transition": "reject"}):
        response = staff.post(f"/inbox/{created}",
                              data={"comment": comment, **action, **csrf_field(page)})
        assert response.status_code == 422
        assert 'id="action-error"' in response.get_data(as_text=True)

    assert counts(sql) == before
    assert_staff_pages_answer(api, staff, created)


def test_a_token_without_a_role_in_the_workflow_learns_nothing_of_the_state(api: Api) -> None:
    created = api.submit()["id"]
    for body in ({"transition": "no-such-step"},
                 {"transition": "accept", "expected_state": "somewhere"}):
        response = api.post(f"/api/submissions/{created}/transitions", body,
                            token=api.tokens["treasurer"])
        assert response.status_code == 403
        answer = response.get_json()
        assert "state" not in answer and "submitted" not in response.get_data(as_text=True)


# -- huge ids and a missing CSRF token ------------------------------------------------------

HUGE = "9" * 30


def test_huge_ids_in_staff_routes_are_404(api: Api, sql: Any) -> None:
    admin = signed_in(api.app, STAFF["admin"][0], PASSWORD)
    page = admin.get("/admin/users").get_data(as_text=True)
    token = csrf_field(page)
    before = counts(sql)
    for path in (f"/admin/forms/membership/export?version={HUGE}",
                 f"/admin/forms/membership/diff?from=1&to={HUGE}",
                 "/admin/forms/membership/export?version=%C2%B2"):
        assert admin.get(path).status_code == 404, path
    for path in (f"/admin/users/{HUGE}/active", f"/admin/users/{HUGE}/tokens",
                 f"/admin/users/1/tokens/{HUGE}/revoke", f"/admin/notifications/{HUGE}/retry",
                 f"/admin/forms/membership/versions/{HUGE}/publish"):
        assert admin.post(path, data=token).status_code == 404, path
    assert counts(sql) == before


@pytest.mark.parametrize("assignee", [HUGE, "²", "-1"])
def test_a_huge_assignee_is_422(api: Api, staff: FlaskClient, sql: Any, assignee: str) -> None:
    created = api.submit()["id"]
    page = staff.get(f"/inbox/{created}").get_data(as_text=True)
    response = staff.post(f"/inbox/{created}/assign",
                          data={"assignee": assignee, "expected_assignee": HUGE,
                                **csrf_field(page)})
    assert response.status_code == 422
    assert_staff_pages_answer(api, staff, created)


def test_a_post_without_csrf_token_is_400(api: Api, staff: FlaskClient, sql: Any) -> None:
    created = api.submit()["id"]
    before = counts(sql)

    signed_out = api.app.test_client()
    for client in (staff, signed_out):
        response = client.post(f"/inbox/{created}", data={"comment": "hello"})
        assert response.status_code == 400
    assert "Ada Lovelace" not in signed_out.post(f"/inbox/{created}").get_data(as_text=True)
    assert counts(sql) == before


# -- rows stored before the edge refused them -----------------------------------------------


def test_a_stored_lone_surrogate_breaks_no_page(
    api: Api, staff: FlaskClient, sql: Any, backend: str
) -> None:
    created = api.submit()["id"]
    # JSON text with an escaped lone surrogate: what json.dumps wrote for "Ada \ud800 …"
    stored = json.dumps(dict(MEMBERSHIP_ANSWERS, name="Ada \ud800 Lovelace"))
    assert "\\ud800" in stored
    value = "CAST(:a AS JSON)" if backend == "postgresql" else ":a"
    with sql.begin() as connection:
        connection.execute(text(f"UPDATE submissions SET answers = {value} WHERE id = :id"),
                           {"a": stored, "id": created})

    assert_staff_pages_answer(api, staff, created)
    shown = api.get(f"/api/submissions/{created}", token=api.tokens["coordinator"]).get_json()
    assert shown["answers"]["name"] == "Ada \ufffd Lovelace"
    assert "Ada \ufffd Lovelace" in staff.get(f"/inbox/{created}").get_data(as_text=True)
