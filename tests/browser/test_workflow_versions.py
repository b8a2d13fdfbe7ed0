"""The workflow editor and workflow versions in the browser (issue 18).

A new transition starts with no "from" ticked (the person chooses). Publishing a new version
of the review workflow leaves an open membership submission on version 1 until the
administrator moves it on the moves page; the move is recorded in its history.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.services import (
    get_submission,
    history,
    import_definition,
    publish_definition,
)
from engine.services.editing import discard_editor_draft
from support.browser import LiveServer, Shots, Watch
from support.browser_staff import ADMIN, add_staff, sign_in, submit_membership
from support.browser_steps import expect

REVIEW = json.loads(
    (Path(__file__).resolve().parents[2] / "workflows" / "review.json").read_text("utf-8")
)


@pytest.fixture(scope="module", autouse=True)
def staff(live_server: LiveServer) -> None:
    add_staff(live_server)


@pytest.fixture(autouse=True)
def fresh_draft(live_server: LiveServer, page: Any) -> Iterator[None]:
    discard_editor_draft(live_server.db, "workflow", "review")
    yield
    page.evaluate("() => window.FormflowWorkflowEditor && window.FormflowWorkflowEditor.editor"
                  " && window.FormflowWorkflowEditor.editor.save()")
    discard_editor_draft(live_server.db, "workflow", "review")


def test_a_new_transition_starts_with_no_from_ticked(
    page: Any, shots: Shots, watch: Watch
) -> None:
    # Until a "from" is ticked the draft is not a valid workflow: the diagram says so (422).
    watch.expect_status("/admin/workflows/review/diagram", 422)
    sign_in(page, ADMIN)
    page.goto("/admin/workflows/review/edit")
    count = len(REVIEW["transitions"])
    expect(page.locator(f"#transition-{count - 1}")).to_be_visible()
    page.click("#add-transition")
    card = page.locator(f"#transition-{count}")
    expect(card).to_be_visible()
    boxes = page.locator(f"#transition-{count}-from input[type=checkbox]")
    assert boxes.count() >= 2  # "every non-final state" and one per open state
    for index in range(boxes.count()):
        assert not boxes.nth(index).is_checked()
    shots(page, "new transition, nothing ticked")
    page.check(f"#transition-{count}-from-submitted")
    assert page.is_checked(f"#transition-{count}-from-submitted")
    watch.assert_clean()


def test_open_submission_moves_to_the_new_version_only_when_the_admin_says_so(
    live_server: LiveServer, page: Any, shots: Shots, watch: Watch
) -> None:
    db = live_server.db
    created = submit_membership(live_server)
    changed = copy.deepcopy(REVIEW)
    changed["title"] = {language: text + " (2)" for language, text in REVIEW["title"].items()}
    imported = import_definition(db, changed, "workflow")
    publish_definition(db, "workflow", "review", imported.version)
    assert get_submission(db, created.id).workflow_version == imported.version - 1

    sign_in(page, ADMIN)
    page.goto("/admin/workflows/review/versions")
    page.click("#moves")
    box = page.locator(f"#move-{created.id}")
    expect(box).to_be_checked()
    shots(page, "moves page")
    page.click("#moves-submit")
    expect(page.locator(".flash, [role=status], .notice").first).to_contain_text(
        created.reference)
    moved = get_submission(db, created.id)
    assert moved.workflow_version == imported.version
    assert moved.state == "submitted"
    last = history(db, created.id)[-1]
    assert (last.kind, last.actor) == ("workflow_move", ADMIN)
    expect(page.locator(f"#move-{created.id}")).to_have_count(0)
    watch.assert_clean()


def test_self_loops_and_transitions_nobody_may_fire_are_warned_about(
    page: Any, watch: Watch
) -> None:
    """The editor's problem list names the transition by label, in German, while editing."""
    sign_in(page, ADMIN)
    page.goto("/admin/workflows/review/edit")
    count = len(REVIEW["transitions"])
    page.click("#add-transition")
    prefix = f"#transition-{count}"
    page.fill(f"{prefix}-label-de", "Nochmal")
    page.locator(f"{prefix}-label-de").press("Tab")
    page.check(f"{prefix}-from-submitted")
    page.select_option(f"{prefix}-to", "submitted")
    loop = page.locator(f'#problems li[data-pointer="/transitions/{count}/from/0"], '
                        f'#problems li[data-pointer="/transitions/{count}/from"]')
    expect(loop.first).to_contain_text("Übergang ‚Nochmal'")
    expect(loop.first).to_contain_text("führt in den Status zurück, von dem er ausgeht")
    page.select_option(f"{prefix}-to", "reviewed")
    for box in page.locator(f"{prefix}-roles input[type=checkbox]:checked").all():
        box.uncheck()
    page.fill(f"{prefix}-other-roles", "kassenwart")
    nobody = page.locator(f'#problems li[data-pointer="/transitions/{count}/roles"]')
    expect(nobody).to_contain_text("niemand darf ihn auslösen")
    expect(nobody).to_contain_text("‚kassenwart'")
    assert "/transitions/" not in page.locator("#problems").inner_text()
    watch.assert_clean()


def test_the_waiting_list_state_is_chosen_among_open_states(page: Any, watch: Watch) -> None:
    sign_in(page, ADMIN)
    page.goto("/admin/workflows/review/edit")
    choice = page.locator("#workflow-waitlist-state")
    offered = choice.locator("option").evaluate_all("(options) => options.map((o) => o.value)")
    finals = {s["id"] for s in REVIEW["states"] if s.get("final")}
    assert offered[0] == "" and not finals & set(offered) and "reviewed" in offered
    choice.select_option("reviewed")
    assert page.evaluate(
        "() => window.FormflowWorkflowEditor.editor.draft.waitlist_state") == "reviewed"
    choice.select_option("")
    assert page.evaluate(
        "() => 'waitlist_state' in window.FormflowWorkflowEditor.editor.draft") is False
    watch.assert_clean()
