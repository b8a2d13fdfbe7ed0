"""GET /api/submissions/{id}: who may read which submission, and what they see."""

from __future__ import annotations

from engine.services import add_comment, revoke_api_token, set_user_active
from support.api import Api, assert_error
from support.postgres import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS


def _url(submission_id: str) -> str:
    return f"/api/submissions/{submission_id}"


def test_the_applicant_token_reads_its_own_submission(api: Api) -> None:
    created = api.submit()

    response = api.get(_url(created["id"]), token=created["token"])

    assert response.status_code == 200
    body = response.get_json()
    assert {"id", "reference", "form", "form_version", "state", "answers", "history",
            "transitions"} <= set(body)
    assert body["id"] == created["id"] and body["reference"] == created["reference"]
    assert (body["form"], body["form_version"], body["state"]) == ("membership", 1, "submitted")
    assert body["answers"]["name"] == "Ada Lovelace"
    assert body["transitions"] == []
    [entry] = body["history"]
    assert entry["transition"] is None and entry["from"] is None
    assert (entry["to"], entry["actor"], entry["comment"]) == ("submitted", "applicant", None)
    assert entry["at"].endswith("+00:00")


def test_the_applicant_sees_state_changes_but_not_staff_notes_or_addresses(api: Api) -> None:
    created = api.submit()
    add_comment(api.db, created["id"], "coord@example.org", "internal: check the address")
    fired = api.fire(created["id"], "reject", comment="Not a member organisation.")
    assert fired.status_code == 200

    as_applicant = api.get(_url(created["id"]), token=created["token"]).get_json()
    as_staff = api.get(_url(created["id"]), token=api.tokens["coordinator"]).get_json()

    assert [e["kind"] for e in as_staff["history"]] == ["created", "comment", "transition"]
    assert as_staff["history"][2]["actor"] == "coord@example.org"
    assert [e["kind"] for e in as_applicant["history"]] == ["created", "transition"]
    rejected = as_applicant["history"][1]
    assert (rejected["transition"], rejected["from"], rejected["to"]) == (
        "reject", "submitted", "rejected")
    assert rejected["comment"] == "Not a member organisation."
    assert rejected["actor"] == "staff"
    assert "coord@example.org" not in str(as_applicant)


def test_an_applicant_token_may_not_read_another_submission(api: Api) -> None:
    mine, other = api.submit(), api.submit()

    assert_error(api.get(_url(other["id"]), token=mine["token"]), 403, "forbidden")
    assert_error(api.get(_url("0" * 32), token=mine["token"]), 404, "not_found")


def test_staff_see_every_submission_with_the_transitions_they_may_fire(api: Api) -> None:
    created = api.submit()

    for role in ("coordinator", "admin"):
        response = api.get(_url(created["id"]), token=api.tokens[role])
        assert response.status_code == 200
        assert response.get_json()["transitions"] == ["review", "reject"]


def test_a_custom_role_sees_only_submissions_its_workflow_gives_it_a_part_in(api: Api) -> None:
    membership = api.submit()
    club = api.submit("club", {"name": "Grace", "age": 30})

    assert_error(api.get(_url(membership["id"]), token=api.tokens["treasurer"]), 403, "forbidden")
    response = api.get(_url(club["id"]), token=api.tokens["treasurer"])
    assert response.status_code == 200
    assert response.get_json()["transitions"] == ["audit"]


def test_an_unknown_submission_is_404(api: Api) -> None:
    assert_error(api.get(_url("no-such-id"), token=api.tokens["coordinator"]), 404, "not_found")


def test_missing_or_malformed_authorization_is_401(api: Api) -> None:
    created = api.submit()

    for headers in ({}, {"Authorization": f"Basic {created['token']}"},
                    {"Authorization": "Bearer"}, {"Authorization": "Bearer a b"}):
        response = api.client.get(_url(created["id"]), headers=headers)
        assert_error(response, 401, "unauthorized")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_unknown_revoked_and_deactivated_tokens_are_401(api: Api) -> None:
    created = api.submit()
    assert api.get(_url(created["id"]), token=api.tokens["coordinator"]).status_code == 200

    assert_error(api.get(_url(created["id"]), token="not-a-token"), 401, "invalid_token")
    revoke_api_token(api.db, api.tokens["coordinator"])
    assert_error(api.get(_url(created["id"]), token=api.tokens["coordinator"]),
                 401, "invalid_token")
    set_user_active(api.db, "admin@example.org", False)
    assert_error(api.get(_url(created["id"]), token=api.tokens["admin"]), 401, "invalid_token")
