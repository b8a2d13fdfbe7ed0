"""Step pages and what they cannot keep (issue 18): a text field without ``max_length`` has the
default length cap, said plainly; text a "back" or a language switch could not keep (characters
no answer may hold) is named on the next page instead of dropped without a word."""

from __future__ import annotations

import re

from engine.model import DEFAULT_MAX_LENGTH
from support.web import Browser, element, text_of

PERSON = {"request": "true", "name": "Erika Mustermann", "institution": "Stadt Musterstadt",
          "function": "Referentin"}
ADDRESS = {"street": "Hauptstr. 1", "postcode": "12345", "town": "Musterstadt",
           "email": "erika@example.org"}


def _notice(page: str) -> str:
    found = re.search(r'<div class="ff-notice" id="refused-notice"[^>]*>(.*?)</div>', page, re.S)
    assert found, "the page has the notice"
    return text_of(found.group(1))


def _to_address(browser: Browser) -> None:
    browser.get("/f/membership")
    browser.step("membership", "person", PERSON)
    assert browser.path == "/f/membership/step/address"


def test_a_text_field_without_max_length_is_capped_with_a_clear_message(
    browser: Browser
) -> None:
    _to_address(browser)
    limit = DEFAULT_MAX_LENGTH["text"]
    assert f'maxlength="{limit}"' in element(browser.page, "field-postcode")
    browser.step("membership", "address", {**ADDRESS, "postcode": "1" * (limit + 1)})
    assert browser.status == 422
    assert (f"Bitte geben Sie höchstens {limit} Zeichen ein (derzeit {limit + 1})."
            in text_of(browser.page))


def test_back_says_which_answer_it_could_not_keep(browser: Browser) -> None:
    _to_address(browser)
    browser.step("membership", "address", {**ADDRESS, "town": "Muster\x00stadt"}, action="back")
    assert browser.path == "/f/membership/step/person"
    notice = _notice(browser.page)
    assert "„Ort“" in notice or "“Ort”" in notice
    assert "nicht gespeichert werden können" in notice
    browser.get("/f/membership/step/address")
    assert 'id="refused-notice"' not in browser.page  # said once
    assert 'value="Musterstadt"' not in browser.page and 'value="Hauptstr. 1"' in browser.page


def test_a_language_switch_says_so_in_the_new_language(browser: Browser) -> None:
    _to_address(browser)
    browser.step("membership", "address", {**ADDRESS, "street": "Haupt\x07str."},
                 action="lang:en")
    assert browser.path == "/f/membership/step/address"
    notice = _notice(browser.page)
    assert "Street" in notice and "cannot be stored" in notice and "not kept" in notice


def test_clean_text_goes_back_without_a_notice(browser: Browser) -> None:
    _to_address(browser)
    browser.step("membership", "address", ADDRESS, action="back")
    assert 'id="refused-notice"' not in browser.page
