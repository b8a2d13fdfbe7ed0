"""The inbox in Chromium (issue 18): bulk actions with a required message asked once and a
summary, saved views, and a page that does not scroll sideways at 375 px."""

from __future__ import annotations

from typing import Any

import pytest

from engine.services import get_submission, history
from support.browser import LiveServer, Shots, Watch
from support.browser_staff import COORDINATOR, add_staff, sign_in, submit_membership


@pytest.fixture(scope="module", autouse=True)
def staff(live_server: LiveServer) -> None:
    add_staff(live_server)


def test_bulk_reject_asks_for_the_message_once_and_sums_up(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    first = submit_membership(live_server, name="Erste Bulk")
    second = submit_membership(live_server, name="Zweite Bulk")
    watch.expect_status("/inbox/bulk", 422)  # the refusal asking for the message
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", answer)
    sign_in(page, COORDINATOR)
    page.goto("/inbox?form=membership&state=submitted")
    page.check(f"#select-{first.id}")
    page.check(f"#select-{second.id}")
    page.select_option("#bulk-transition", "reject")
    page.click("button[name=do][value=transition]")
    page.wait_for_selector("#bulk-error")
    assert "Nachricht" in page.inner_text("#bulk-error")
    # the selection survives the refusal, the message is asked for once
    assert page.is_checked(f"#select-{first.id}") and page.is_checked(f"#select-{second.id}")
    assert get_submission(live_server.db, first.id).state == "submitted"
    assert asked == []  # the message is missing: no question before the refusal
    page.fill("#bulk-comment", "Leider passt Ihr Antrag nicht.")
    page.click("button[name=do][value=transition]")
    summary = page.wait_for_selector("#bulk-summary")
    assert len(asked) == 1 and "endgültige Entscheidung" in asked[0]  # a final decision
    shots(page, "bulk summary")
    text = summary.inner_text()
    assert "2 von 2 erledigt" in text
    assert first.reference in text and second.reference in text
    for created in (first, second):
        assert get_submission(live_server.db, created.id).state == "rejected"
        messages = [e.comment for e in history(live_server.db, created.id)
                    if e.kind == "transition"]
        assert messages == ["Leider passt Ihr Antrag nicht."]
    # firing it again: both fail, and the summary says why
    page.goto("/inbox?form=membership&state=rejected")
    page.check(f"#select-{first.id}")
    page.select_option("#bulk-transition", "reject")
    page.fill("#bulk-comment", "Nochmal.")
    page.click("button[name=do][value=transition]")
    failed = page.wait_for_selector("#bulk-summary li.failed")
    assert "nicht möglich" in failed.inner_text()
    watch.assert_clean()


def test_saved_views_save_apply_and_delete(
    page: Any, live_server: LiveServer, watch: Watch
) -> None:
    submit_membership(live_server, name="Ansicht Person")
    sign_in(page, COORDINATOR)
    page.goto("/inbox")
    page.select_option("#filter-form", "membership")
    page.select_option("#filter-state", "submitted")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/inbox?*state=submitted*")
    page.fill("#view-name", "Neue Mitgliedsanträge")
    page.click("form.save-view button[type=submit]")
    page.wait_for_selector("#saved-views")
    page.goto("/inbox")
    assert page.input_value("#filter-state") == ""
    page.click("#saved-views a:text('Neue Mitgliedsanträge')")
    page.wait_for_url("**/inbox?*state=submitted*")
    assert page.input_value("#filter-state") == "submitted"
    assert page.input_value("#filter-form") == "membership"
    page.click("#saved-views button:text('Neue Mitgliedsanträge')")
    page.wait_for_load_state()
    assert page.locator("#saved-views a:text('Neue Mitgliedsanträge')").count() == 0
    watch.assert_clean()


def test_inbox_fits_a_375_px_screen(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    for number in range(3):
        submit_membership(live_server, name=f"Schmal {number} Mit Einem Sehr Langen Namen",
                          institution="Verwaltungsgemeinschaft Oberes Musterstadtland e. V.")
    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, COORDINATOR)
    page.goto("/inbox")
    page.wait_for_selector("#inbox tbody tr")
    shots(page, "inbox 375")
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.body.scrollWidth,"
        " window.innerWidth]")
    assert widths[2] == 375
    assert widths[0] <= 375 and widths[1] <= 375, widths
    # rows are cards: each cell on its own line, still labelled
    box = page.locator("#inbox tbody tr").first.bounding_box()
    assert box is not None and box["width"] <= 375
    before = page.evaluate(
        "() => getComputedStyle(document.querySelector('#inbox tbody td[data-label]'),"
        " '::before').content")
    assert before == '"Formular: "'
    assert page.locator("#inbox thead").bounding_box()["height"] <= 1  # headers hidden
    watch.assert_clean()
