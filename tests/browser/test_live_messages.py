"""Messages while typing: leaving a field shows the server's own message for it (the same
catalogue, de and en, with the same parameters), before anything is sent; fixing the answer
takes it away again."""

from __future__ import annotations

from typing import Any

from engine.messages import message
from support.browser import LiveServer, Watch
from support.browser_steps import expect, fill_person


def test_leaving_a_field_shows_the_servers_message(
    page: Any, live_server: LiveServer, watch: Watch
) -> None:
    page.goto("/f/membership")
    fill_person(page)
    page.click("#next")
    page.wait_for_url("**/f/membership/step/address**")
    page.wait_for_load_state("networkidle")
    requests = len(watch.requests)

    page.focus("#field-street")
    page.keyboard.press("Tab")  # an empty required field left: not a mistake yet
    expect(page.locator("#field-street-error")).to_have_count(0)

    page.fill("#field-email", "erika@")
    page.focus("#field-street")  # on to another field (Tab would reach "Weiter")
    error = page.locator("#field-email-error")
    expect(error).to_contain_text(message("invalid_email", "de"))
    expect(page.locator("#field-email")).to_have_attribute("aria-invalid", "true")
    page.fill("#field-postcode", "1011")
    page.keyboard.press("Tab")
    expect(page.locator("#field-postcode-error")).to_contain_text(
        "Bitte geben Sie eine fünfstellige Postleitzahl ein")  # the field's pattern_message
    assert len(watch.requests) == requests  # nothing was sent

    page.fill("#field-email", "erika@example.org")
    page.focus("#field-town")
    expect(error).to_have_count(0)
    expect(page.locator("#field-email")).not_to_have_attribute("aria-invalid", "true")
    watch.assert_clean()


def test_the_messages_are_in_the_pages_language_with_their_numbers(
    page: Any, live_server: LiveServer
) -> None:
    page.goto("/f/funding?lang=en")
    page.wait_for_url("**/f/funding/step/organisation**")
    page.fill("#field-org_name", "x" * 10)
    page.fill("#field-contact_email", "nobody")
    page.keyboard.press("Tab")
    expect(page.locator("#field-contact_email-error")).to_contain_text(
        message("invalid_email", "en"))
