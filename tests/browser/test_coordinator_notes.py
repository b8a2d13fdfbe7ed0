"""Issue 18, coordinators: a transition's message to the applicant and its internal note in
the browser (the applicant's status page shows the message, never the note), and a final
decision confirmed first — by a dialog with JavaScript, by a confirmation page without.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.services import fire_transition, get_submission, history
from support.browser import LiveServer, Shots, Watch, new_context
from support.browser_staff import COORDINATOR, add_staff, sign_in, submit_membership
from support.browser_steps import expect

MESSAGE = "Wir prüfen gerade Ihre Angaben zur Institution."
NOTE = "INTERN: Institution im Register nicht gefunden"
WELCOME = "Willkommen!\nZweite Zeile"


@pytest.fixture(scope="module", autouse=True)
def staff(live_server: LiveServer) -> None:
    add_staff(live_server)


def test_the_applicant_sees_the_message_and_never_the_note(
    chromium: Any, page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    created = submit_membership(live_server, name="Notiz Probe")
    path = f"/inbox/{created.id}"
    sign_in(page, COORDINATOR, next_path=path)
    page.wait_for_url(f"**{path}")
    expect(page.locator("label[for='comment']")).to_have_text("Nachricht an Antragsteller:in")
    expect(page.locator("label[for='note']")).to_have_text("Interne Notiz")
    page.fill("#comment", MESSAGE)
    page.fill("#note", NOTE)
    shots(page, "message and note typed")
    page.click("button[data-transition='review']")
    expect(page.locator("#current-state")).to_have_attribute("data-state", "reviewed")
    entry = page.locator("ol.timeline > li").last
    expect(entry.locator(".entry-comment")).to_contain_text("Nachricht an Antragsteller:in")
    expect(entry.locator(".entry-comment")).to_contain_text(MESSAGE)
    expect(entry.locator(".entry-note")).to_contain_text("Interne Notiz")
    expect(entry.locator(".entry-note")).to_contain_text(NOTE)
    shots(page, "timeline marks message and note")

    applicant = new_context(chromium, live_server)
    watch.attach(applicant)
    try:
        status = applicant.new_page()
        status.goto(f"/status/{created.token}")
        expect(status.locator("#status-state")).to_have_attribute("data-state", "reviewed")
        expect(status.locator("#status-history")).to_contain_text(MESSAGE)
        body = status.locator("body").inner_text()
        assert "INTERN" not in body and "Register" not in body
        assert "INTERN" not in status.content()
        shots(status, "applicant status page")
    finally:
        applicant.close()
    watch.assert_clean()


def test_a_final_decision_is_confirmed_in_a_dialog(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    created = submit_membership(live_server, name="Dialog Probe")
    path = f"/inbox/{created.id}"
    sign_in(page, COORDINATOR, next_path=path)
    page.wait_for_url(f"**{path}")
    page.fill("#comment", "Leider passt der Antrag nicht.")

    asked: list[str] = []

    def dismiss(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.click("button[data-transition='reject']")
    expect(page.locator("#current-state")).to_have_attribute("data-state", "submitted")
    assert asked and "Ablehnen" in asked[0] and "endgültig" in asked[0]
    assert get_submission(live_server.db, created.id).state == "submitted"

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("button[data-transition='reject']")
    expect(page.locator("#current-state")).to_have_attribute("data-state", "rejected")
    shots(page, "rejected after the dialog")
    assert get_submission(live_server.db, created.id).state == "rejected"
    watch.assert_clean()


def test_a_final_decision_without_javascript_asks_on_a_page(
    chromium: Any, live_server: LiveServer, shots: Shots
) -> None:
    created = submit_membership(live_server, name="Ohne Skript")
    fire_transition(live_server.db, created.id, "review", actor=COORDINATOR,
                    roles=["coordinator"])
    path = f"/inbox/{created.id}"
    context = new_context(chromium, live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, COORDINATOR, next_path=path)
        page.wait_for_url(f"**{path}")
        page.fill("#comment", WELCOME)  # two lines: kept through the confirmation page
        page.fill("#note", "Beitrag geprüft")
        page.click("button[data-transition='accept']")
        expect(page.locator("#confirm-question")).to_contain_text("Annehmen")
        expect(page.locator("#confirm-comment")).to_contain_text("Zweite Zeile")
        shots(page, "confirmation page")
        assert get_submission(live_server.db, created.id).state == "reviewed"

        page.click("#confirm-back")
        expect(page.locator("#current-state")).to_have_attribute("data-state", "reviewed")
        expect(page.locator("#comment")).to_have_value(WELCOME)
        expect(page.locator("#note")).to_have_value("Beitrag geprüft")

        page.click("button[data-transition='accept']")
        page.click("#confirm-yes")
        expect(page.locator("#current-state")).to_have_attribute("data-state", "accepted")
        shots(page, "accepted after confirming")
    finally:
        context.close()
    last = history(live_server.db, created.id)[-1]
    assert (last.transition, last.comment, last.note) == ("accept", WELCOME, "Beitrag geprüft")
