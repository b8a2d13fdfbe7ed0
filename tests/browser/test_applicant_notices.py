"""What the applicant is told in the browser (issue 18): browser "back" after sending shows
the application as sent, not an empty form; a paste longer than the field allows is cut, and
the page says so beside the counter."""

from __future__ import annotations

import re
from typing import Any

from support.browser import LiveServer, Watch
from support.browser_steps import expect

CONTACT = "/f/contact"
ANSWERS = {"name": "Jörg Müller", "email": "joerg@example.org", "subject": "Frage",
           "message": "Wann ist das nächste Treffen?"}


def fill_contact(page: Any) -> None:
    for name, value in ANSWERS.items():
        page.fill(f"#field-{name}", value)
    page.check("#field-privacy_consent")


def test_back_after_sending_shows_the_reference_and_status_link(
    page: Any, live_server: LiveServer, watch: Watch
) -> None:
    page.goto(CONTACT)
    page.wait_for_url(f"**{CONTACT}/step/message_step")
    fill_contact(page)
    page.click("#next")
    page.wait_for_url(f"**{CONTACT}/review")
    page.click("#submit")
    page.wait_for_url(f"**{CONTACT}/confirmation")
    reference = page.inner_text("#reference")
    status_url = page.get_attribute("#status-link", "href")
    assert status_url

    page.go_back()  # the review page is gone with the draft: the first step, with a notice
    page.wait_for_url(f"**{CONTACT}/step/message_step")
    notice = page.locator("#submitted-notice")
    expect(notice).to_be_visible()
    expect(notice).to_contain_text("Ihr Antrag wurde gesendet")
    expect(page.locator("#submitted-reference")).to_have_text(reference)
    assert page.get_attribute("#submitted-status-link", "href") == status_url

    page.click("#start-new")
    page.wait_for_url(f"**{CONTACT}/step/message_step")
    expect(page.locator("#submitted-notice")).to_have_count(0)
    assert page.input_value("#field-name") == ""
    watch.assert_clean()


def paste(page: Any, selector: str, text: str) -> None:
    """A real paste (Ctrl+V from the clipboard), which the browser cuts at ``maxlength``."""
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    page.focus(selector)
    page.keyboard.press("Control+V")


def test_a_paste_longer_than_allowed_is_cut_and_the_page_says_so(
    context: Any, page: Any, live_server: LiveServer, watch: Watch
) -> None:
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.goto(CONTACT)
    page.wait_for_url(f"**{CONTACT}/step/message_step")
    note = page.locator("#field-message-cut")
    expect(note).to_have_text("")

    paste(page, "#field-message", "x" * 1990)  # fits: nothing to say
    expect(page.locator("#field-message-counter")).to_have_text("1990 / 2000")
    expect(note).to_have_text("")

    paste(page, "#field-message", "y" * 50)  # only 10 more fit
    assert len(page.input_value("#field-message")) == 2000
    expect(page.locator("#field-message-counter")).to_have_text("2000 / 2000")
    expect(note).to_have_text(re.compile(r"zu lang.*2000 Zeichen"))
    assert note.get_attribute("aria-live") == "polite"

    page.keyboard.press("Backspace")  # the person shortens it: the note has done its job
    expect(note).to_have_text("")

    page.goto(f"{CONTACT}/step/message_step?lang=en")
    paste(page, "#field-subject", "z" * 200)  # a field without a counter says so as well
    assert len(page.input_value("#field-subject")) == 150
    expect(page.locator("#field-subject-cut")).to_have_text(re.compile(r"too long.*150 char"))
    watch.assert_clean()
