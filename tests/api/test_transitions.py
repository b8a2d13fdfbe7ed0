"""POST /api/submissions/{id}/transitions: the workflow decides, the API reports why not."""

from __future__ import annotations

from typing import Any

from engine.services import get_submission, history
from support.api import Api, assert_error
from support.postgres import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS


def _url(submission_id: str) -> str:
    return f"/api/submissions/{submission_id}/transitions"


def _state(api: Api, submission_id: str) -> str:
    return get_submission(api.db, submission_id).state


def test_a_coordinator_moves_a_submission_through_its_workflow(api: Api) -> None:
    created = api.submit()

    reviewed = api.fire(created["id"], "review", expected_state="submitted")
    assert reviewed.status_code == 200
    body = reviewed.get_json()
    assert body["id"] == created["id"] and body["state"] == "reviewed"
    assert body["transitions"] == ["accept", "reject"]

    accepted = api.fire(created["id"], "accept", comment="Welcome!", expected_state="reviewed")
    assert accepted.status_code == 200
    body = accepted.get_json()
    assert body["state"] == "accepted" and body["transitions"] == []
    steps = [(e["transition"], e["from"], e["to"], e["actor"], e["comment"])
             for e in body["history"]]
    assert steps == [
        (None, None, "submitted", "applicant", None),
        ("review", "submitted", "reviewed", "coord@example.org", None),
        ("accept", "reviewed", "accepted", "coord@example.org", "Welcome!"),
    ]
    assert _state(api, created["id"]) == "accepted"


def test_an_admin_may_fire_any_transition(api: Api) -> None:
    created = api.submit()

    response = api.fire(created["id"], "review", role="admin")

    assert response.status_code == 200
    assert response.get_json()["history"][-1]["actor"] == "admin@example.org"


def test_a_role_that_may_not_fire_it_is_403_and_nothing_changes(api: Api) -> None:
    created = api.submit()

    assert_error(api.fire(created["id"], "review", role="treasurer"), 403, "forbidden")
    assert _state(api, created["id"]) == "submitted"


def test_an_applicant_token_may_not_fire_transitions(api: Api) -> None:
    created = api.submit()

    response = api.post(_url(created["id"]), {"transition": "review"}, token=created["token"])

    assert_error(response, 403, "forbidden")
    assert _state(api, created["id"]) == "submitted"


def test_a_stale_expected_state_is_409_with_the_current_state(api: Api) -> None:
    created = api.submit()
    assert api.fire(created["id"], "review", expected_state="submitted").status_code == 200

    # a second coordinator, still looking at the submitted page, tries the same
    response = api.fire(created["id"], "reject", comment="duplicate", expected_state="submitted")

    body = assert_error(response, 409, "stale_state")
    assert body["state"] == "reviewed"
    assert body["transitions"] == ["accept", "reject"]
    assert _state(api, created["id"]) == "reviewed"
    assert len(history(api.db, created["id"])) == 2


def test_a_transition_not_allowed_from_the_current_state_is_409(api: Api) -> None:
    created = api.submit()

    body = assert_error(api.fire(created["id"], "accept"), 409, "transition_not_allowed")

    assert body["state"] == "submitted"
    assert body["transitions"] == ["review", "reject"]
    assert _state(api, created["id"]) == "submitted"


def test_an_unknown_transition_is_409(api: Api) -> None:
    created = api.submit()

    body = assert_error(api.fire(created["id"], "approve_everything"), 409, "unknown_transition")

    assert "approve_everything" in body["message"]
    assert body["transitions"] == ["review", "reject"]


def test_a_failing_guard_is_409_and_the_transition_is_not_offered(api: Api) -> None:
    minor = api.submit("club", {"name": "Tom", "age": 16})
    adult = api.submit("club", {"name": "Grace", "age": 30})
    staff = api.tokens["coordinator"]

    offered = api.get(f"/api/submissions/{minor['id']}", token=staff).get_json()["transitions"]
    assert offered == ["decline"]
    body = assert_error(api.fire(minor["id"], "approve"), 409, "guard_failed")
    assert body["state"] == "submitted"
    assert _state(api, minor["id"]) == "submitted"

    assert api.fire(adult["id"], "approve").get_json()["state"] == "approved"


def test_a_missing_required_comment_is_422(api: Api) -> None:
    created = api.submit()

    for extra in ({}, {"comment": None}, {"comment": "   "}):
        body = assert_error(api.fire(created["id"], "reject", **extra), 422, "comment_required")
        assert list(body["errors"]) == ["comment"]
    assert _state(api, created["id"]) == "submitted"

    response = api.fire(created["id"], "reject", comment="  Incomplete application.  ")
    assert response.status_code == 200
    assert response.get_json()["history"][-1]["comment"] == "Incomplete application."


def test_a_comment_where_none_is_allowed_is_422(api: Api) -> None:
    created = api.submit("club", {"name": "Grace", "age": 30})

    response = api.fire(created["id"], "audit", role="treasurer", comment="looks fine")

    assert_error(response, 422, "comment_not_allowed")
    assert api.fire(created["id"], "audit", role="treasurer").status_code == 200


def test_an_unknown_submission_is_404(api: Api) -> None:
    assert_error(api.fire("no-such-id", "review"), 404, "not_found")


def test_firing_needs_a_valid_staff_token(api: Api) -> None:
    created = api.submit()

    assert_error(api.post(_url(created["id"]), {"transition": "review"}), 401, "unauthorized")
    assert_error(api.post(_url(created["id"]), {"transition": "review"}, token="nope"),
                 401, "invalid_token")
    assert _state(api, created["id"]) == "submitted"


def test_a_malformed_transition_request_is_400(api: Api) -> None:
    created = api.submit()
    staff = {"Authorization": f"Bearer {api.tokens['coordinator']}"}
    bodies: list[dict[str, Any]] = [
        {}, {"transition": ""}, {"transition": 3},
        {"transition": "reject", "comment": ["no"]},
        {"transition": "review", "expected_state": 1},
    ]

    for body in bodies:
        assert_error(api.post(_url(created["id"]), body, headers=staff), 400, "invalid_body")
    response = api.client.post(_url(created["id"]), data="transition=review", headers=staff,
                               content_type="application/x-www-form-urlencoded")
    assert_error(response, 400, "invalid_json")
    response = api.client.post(_url(created["id"]), data="x" * (300 * 1024), headers=staff,
                               content_type="application/json")
    assert_error(response, 413, "too_large")
    assert _state(api, created["id"]) == "submitted"
