"""Submissions keep their workflow version unless an administrator moves them explicitly.

The triage workflow of ``support.admin`` is published as version 1. Version 2 adds a
``review`` state; version 3 is version 1 again under another title. So after version 3 is
published: a submission made on version 1 and still ``submitted`` may move; one made on
version 2 and now in ``review`` may not (no such state in version 3); a rejected one (final)
is not listed at all. On both databases.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask

from engine.services import (
    Database,
    fire_transition,
    get_submission,
    history,
    import_definition,
    publish_definition,
    submit,
)
from engine.services.workflow_moves import move_submissions, open_on_older_versions
from support.admin import ADMIN, WORKFLOW, Browser
from support.postgres import BOTH_BACKENDS
from web.db import get_db

pytestmark = BOTH_BACKENDS

ANSWERS = {"name": "Ada", "phone": "0301234", "email": "ada@example.org", "age": 30}


def _publish(db: Database, data: dict[str, Any]) -> int:
    imported = import_definition(db, data, "workflow")
    publish_definition(db, "workflow", data["id"], imported.version)
    return imported.version


def _with_review() -> dict[str, Any]:
    data = copy.deepcopy(WORKFLOW)
    data["states"].insert(1, {"id": "review", "label": {"de": "Prüfung", "en": "Review"}})
    data["transitions"].append({"id": "start_review", "from": "submitted", "to": "review",
                                "roles": ["coordinator"]})
    data["transitions"][0]["from"] = ["submitted", "review"]
    data["transitions"][1]["from"] = ["submitted", "review"]
    return data


def _version_one_again() -> dict[str, Any]:
    data = copy.deepcopy(WORKFLOW)
    data["title"] = {"de": "Sichtung (neu)", "en": "Triage (new)"}
    return data


@dataclass
class Scene:
    on_one: str
    in_review: str
    rejected: str


@pytest.fixture
def scene(app: Flask) -> Scene:
    db = get_db(app)
    on_one = submit(db, "grant", ANSWERS).id
    rejected = submit(db, "grant", ANSWERS).id
    fire_transition(db, rejected, "reject", actor="c@example.org", roles=["coordinator"],
                    comment="Nein")
    assert _publish(db, _with_review()) == 2
    in_review = submit(db, "grant", ANSWERS).id
    fire_transition(db, in_review, "start_review", actor="c@example.org", roles=["coordinator"])
    assert _publish(db, _version_one_again()) == 3
    return Scene(on_one, in_review, rejected)


def test_publishing_a_new_version_leaves_submissions_on_theirs(app: Flask, scene: Scene) -> None:
    db = get_db(app)
    assert get_submission(db, scene.on_one).workflow_version == 1
    assert get_submission(db, scene.in_review).workflow_version == 2
    assert get_submission(db, scene.rejected).workflow_version == 1


def test_the_plan_lists_open_submissions_and_offers_only_those_whose_state_exists(
    app: Flask, scene: Scene
) -> None:
    plan = open_on_older_versions(get_db(app), "triage")
    assert plan.version == 3
    assert [c.submission_id for c in plan.movable] == [scene.on_one]
    assert [(c.submission_id, c.state, c.from_version) for c in plan.stuck] == [
        (scene.in_review, "review", 2)]
    assert scene.rejected not in {c.submission_id for c in plan.candidates}


def test_moving_records_an_event_with_the_actor_and_refuses_the_rest(
    app: Flask, scene: Scene
) -> None:
    db = get_db(app)
    outcome = move_submissions(db, "triage", [scene.on_one, scene.in_review, scene.rejected,
                                              "nosuchsubmission"], actor=ADMIN)
    on_one = get_submission(db, scene.on_one)
    assert outcome.moved == (on_one.reference,)
    assert dict(outcome.refused) == {
        get_submission(db, scene.in_review).reference: "state_missing",
        get_submission(db, scene.rejected).reference: "final",
        "nosuchsubmission": "not_found",
    }
    assert on_one.workflow_version == 3 and on_one.state == "submitted"
    assert get_submission(db, scene.in_review).workflow_version == 2
    event = history(db, scene.on_one)[-1]
    assert (event.kind, event.actor, event.from_state, event.to_state, event.comment) == (
        "workflow_move", ADMIN, "submitted", "submitted", "1 → 3")
    assert [e.kind for e in history(db, scene.in_review)][-1] == "transition"
    # Moved once: a second try finds it on the published version already.
    again = move_submissions(db, "triage", [scene.on_one], actor=ADMIN)
    assert again.moved == () and again.refused == ((on_one.reference, "already_current"),)
    assert open_on_older_versions(db, "triage").movable == ()


def test_the_admin_page_lists_and_moves_with_csrf(app: Flask, scene: Scene) -> None:
    admin = Browser(app, ADMIN)
    page = admin.get("/admin/workflows/triage/moves").get_data(as_text=True)
    movable = re.search(r'<table id="moves-movable">(.*?)</table>', page, re.S)
    stuck = re.search(r'<table id="moves-stuck">(.*?)</table>', page, re.S)
    assert movable and scene.on_one in movable.group(1) and scene.in_review not in movable.group(1)
    assert stuck and scene.in_review in stuck.group(1)
    assert '<th scope="col">Verschieben</th>' in movable.group(1)  # the page's own words
    assert '<th scope="col">Referenz</th>' in stuck.group(1)
    assert 'type="checkbox"' not in stuck.group(1)
    assert scene.rejected not in page

    refused = admin.client.post("/admin/workflows/triage/moves",
                                data={"submission": [scene.on_one]})
    assert refused.status_code == 400
    assert get_submission(get_db(app), scene.on_one).workflow_version == 1

    moved = admin.post_form("/admin/workflows/triage/moves",
                            {"submission": [scene.on_one, scene.in_review]},
                            follow_redirects=True)
    text = moved.get_data(as_text=True)
    assert moved.status_code == 200
    assert "Version 3" in text or "version 3" in text
    assert get_submission(get_db(app), scene.on_one).workflow_version == 3
    assert get_submission(get_db(app), scene.in_review).workflow_version == 2
    assert 'id="moves-movable"' not in text
    # The submission's history names the move (not as a comment).
    page = admin.get(f"/inbox/{scene.on_one}").get_data(as_text=True)
    assert "In eine andere Ablaufversion verschoben (1 → 3)" in page


def test_only_admins_may_move(app: Flask, scene: Scene, coordinator: Browser) -> None:
    assert coordinator.get("/admin/workflows/triage/moves").status_code == 403
    answer = coordinator.post_form("/admin/workflows/triage/moves",
                                   {"submission": [scene.on_one]})
    assert answer.status_code == 403
    assert get_submission(get_db(app), scene.on_one).workflow_version == 1
    assert Browser(app, ADMIN).get("/admin/workflows/nosuch/moves").status_code == 404


def test_publishing_in_the_editor_offers_the_move(app: Flask, scene: Scene) -> None:
    admin = Browser(app, ADMIN)
    data = _with_review()
    saved = admin.post_json("/admin/workflows/triage/draft", {"definition": data})
    assert saved.status_code == 200, saved.get_data(as_text=True)
    answer = admin.post_json("/admin/workflows/triage/publish",
                             {"revision": saved.get_json()["draft"]["revision"]})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    # on version 4 (= 2): on_one (submitted, v1) and in_review (review, v2) both can move
    assert (body["version"], body["open_on_older"], body["movable"]) == (4, 2, 2)
    assert body["moves_url"] == "/admin/workflows/triage/moves"
    assert "2 offene Einreichungen" in body["moves_text"]


def test_hostile_move_requests_get_a_clear_4xx(app: Flask, scene: Scene) -> None:
    admin = Browser(app, ADMIN)
    nothing = admin.post_form("/admin/workflows/triage/moves", {})
    assert nothing.status_code == 302  # back to the page, which says nothing was selected
    too_long = admin.post_form("/admin/workflows/triage/moves", {"submission": ["x" * 65]})
    assert too_long.status_code == 400
    too_many = admin.post_form("/admin/workflows/triage/moves",
                               {"submission": [f"s{i}" for i in range(1001)]})
    assert too_many.status_code == 400
    unknown = admin.post_form("/admin/workflows/nosuch/moves", {"submission": [scene.on_one]})
    assert unknown.status_code == 404
    assert get_submission(get_db(app), scene.on_one).workflow_version == 1
