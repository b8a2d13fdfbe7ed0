"""Coordinators in the browser (issue 5): the inbox's filters, one submission moved through
the review workflow with a comment and its history, a colleague who was faster (409 with the
typed comment kept), and axe-core over every staff page.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.services import fire_transition, get_submission, history
from support.browser import LiveServer, Shots, Watch, new_context
from support.browser_staff import (
    ADMIN,
    COORDINATOR,
    OTHER_COORDINATOR,
    add_staff,
    sign_in,
    submit_membership,
)
from support.browser_steps import expect

try:
    from axe_playwright_python.sync_playwright import Axe
except ImportError:  # the chromium fixture skips (or fails in CI) before this matters
    Axe = None

BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module", autouse=True)
def staff(live_server: LiveServer) -> None:
    add_staff(live_server)


def test_coordinator_filters_comments_and_moves_a_submission_to_accepted(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    target = submit_membership(live_server, name="Gesucht Person")
    moved = submit_membership(live_server, name="Schon Geprüft")
    fire_transition(live_server.db, moved.id, "review", actor=OTHER_COORDINATOR,
                    roles=["coordinator"])

    sign_in(page, COORDINATOR)
    page.wait_for_url("**/inbox**")
    shots(page, "inbox")
    page.select_option("#filter-form", "membership")
    page.select_option("#filter-state", "submitted")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/inbox?*state=submitted*")
    rows = page.locator("#inbox tbody tr")
    ids = rows.evaluate_all("rows => rows.map(r => r.dataset.id)")
    assert target.id in ids
    assert moved.id not in ids
    for text in rows.all_inner_texts():
        assert "Eingegangen" in text
    shots(page, "inbox filtered")

    page.click(f"#inbox tr[data-id='{target.id}'] a")
    page.wait_for_url(f"**/inbox/{target.id}")
    expect(page.locator("#current-state")).to_have_attribute("data-state", "submitted")
    expect(page.locator("[data-field='name']")).to_have_text("Gesucht Person")

    page.fill("#comment", "Unterlagen vollständig, Referenz geprüft.")
    page.click("button[data-transition='review']")
    page.wait_for_load_state()
    expect(page.locator("#current-state")).to_have_attribute("data-state", "reviewed")
    expect(page.locator("#comment")).to_have_value("")
    shots(page, "reviewed")

    page.once("dialog", lambda dialog: dialog.accept())  # a final decision asks first
    page.click("button[data-transition='accept']")
    expect(page.locator("#current-state")).to_have_attribute("data-state", "accepted")
    expect(page.locator("button[data-transition]")).to_have_count(0)
    timeline = page.locator("ol.timeline > li")
    texts = timeline.all_inner_texts()
    assert len(texts) >= 3, texts
    assert "Unterlagen vollständig, Referenz geprüft." in texts[1]
    assert COORDINATOR in texts[1] and COORDINATOR in texts[-1]
    shots(page, "accepted with timeline")

    stored = get_submission(live_server.db, target.id)
    assert stored.state == "accepted"
    fired = [(e.transition, e.from_state, e.to_state, e.actor, e.comment)
             for e in history(live_server.db, target.id) if e.transition]
    assert fired == [
        ("review", "submitted", "reviewed", COORDINATOR,
         "Unterlagen vollständig, Referenz geprüft."),
        ("accept", "reviewed", "accepted", COORDINATOR, None),
    ]
    watch.assert_clean()


def test_stale_page_gets_the_conflict_message_and_keeps_the_typed_comment(
    chromium: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    created = submit_membership(live_server, name="Zwei Gleichzeitig")
    path = f"/inbox/{created.id}"
    watch.expect_status(path, 409)
    first = new_context(chromium, live_server)
    second = new_context(chromium, live_server)
    watch.attach(first)
    watch.attach(second)
    try:
        fast, slow = first.new_page(), second.new_page()
        sign_in(fast, COORDINATOR, next_path=path)
        sign_in(slow, OTHER_COORDINATOR, next_path=path)
        fast.wait_for_url(f"**{path}")
        slow.wait_for_url(f"**{path}")
        for current in (fast, slow):
            expect(current.locator("#current-state")).to_have_attribute("data-state",
                                                                       "submitted")

        fast.click("button[data-transition='review']")
        expect(fast.locator("#current-state")).to_have_attribute("data-state", "reviewed")
        shots(fast, "first coordinator was faster")

        typed = "Bitte noch den Nachweis der Institution nachreichen."
        slow.fill("#comment", typed)
        with slow.expect_navigation() as navigation:
            slow.click("button[data-transition='review']")
        assert navigation.value is not None and navigation.value.status == 409
        expect(slow.locator("#action-error")).to_contain_text(
            "Jemand anderes hat diesen Antrag inzwischen bearbeitet")
        expect(slow.locator("#comment")).to_have_value(typed)
        expect(slow.locator("#current-state")).to_have_attribute("data-state", "reviewed")
        offered = slow.locator("button[data-transition]").evaluate_all(
            "buttons => buttons.map(b => b.dataset.transition)")
        assert "review" not in offered and "accept" in offered
        shots(slow, "stale page shows the conflict")
    finally:
        first.close()
        second.close()

    fired = [(e.transition, e.actor) for e in history(live_server.db, created.id)
             if e.transition]
    assert fired == [("review", COORDINATOR)]
    assert all(e.comment != typed for e in history(live_server.db, created.id))
    watch.assert_clean()


def test_axe_finds_nothing_serious_on_the_staff_pages(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    assert Axe is not None, "axe-playwright-python is part of the test extra"
    axe = Axe()
    created = submit_membership(live_server, name="Barriere Frei")
    blocking: list[str] = []
    checked: list[str] = []

    def visit(name: str, ready: str) -> None:
        expect(page.locator(ready).first).to_be_attached()
        shots(page, name)
        for violation in axe.run(page).response["violations"]:
            targets = [" ".join(map(str, n.get("target", []))) for n in violation["nodes"]]
            line = (f"{name}: {violation['impact']}: {violation['id']} "
                    f"({violation['help']}) at {targets}")
            if violation["impact"] in BLOCKING:
                blocking.append(line)
            else:
                print(f"axe (info) {line}")
        checked.append(name)

    page.goto("/login")
    visit("login", "#email")
    sign_in(page, ADMIN)
    page.goto("/inbox")
    visit("inbox", "#inbox")
    page.goto(f"/inbox/{created.id}")
    visit("submission", "ol.timeline")
    page.goto("/admin/forms")
    visit("admin forms", "#definitions")
    page.goto("/admin/forms/membership/edit")
    visit("form editor", "#step-0")
    page.goto("/admin/workflows/review/edit")
    visit("workflow editor", "#diagram svg.workflow-diagram")
    page.goto("/admin/users")
    visit("users", "#users")
    assert len(checked) == 7
    assert blocking == []
    watch.assert_clean()
