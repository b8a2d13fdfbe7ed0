"""Repeating groups on the applicant pages without JavaScript: rows added and removed by
posting the step, per-row visibility, messages naming the row, the review page and storage."""

from __future__ import annotations

import re
from typing import Any

from engine.services import Database, import_definition, list_submissions, publish_form
from support.web import Browser, element, text_of, wrapper

BUDGET: dict[str, Any] = {
    "id": "rows",
    "title": {"de": "Kostenplan", "en": "Cost plan"},
    "languages": ["de", "en"],
    "steps": [
        {"id": "costs", "title": {"de": "Kosten", "en": "Costs"}, "fields": [
            {"id": "items", "type": "group", "repeat": {"min": 1, "max": 3},
             "label": {"de": "Kostenpositionen", "en": "Cost items"},
             "fields": [
                 {"id": "item", "type": "text", "required": True,
                  "label": {"de": "Bezeichnung", "en": "Item"}},
                 {"id": "amount", "type": "number", "min": 0,
                  "label": {"de": "Betrag", "en": "Amount"}},
                 {"id": "kind", "type": "select", "label": {"de": "Art", "en": "Kind"},
                  "options": [{"value": "goods", "label": {"de": "Sachkosten", "en": "Goods"}},
                              {"value": "other", "label": {"de": "Sonstiges", "en": "Other"}}]},
                 {"id": "note", "type": "text", "label": {"de": "Erläuterung", "en": "Note"}},
             ]},
            {"id": "total", "type": "calculated", "expression": "sum(items.amount)",
             "label": {"de": "Gesamt", "en": "Total"}},
        ]},
    ],
    "rules": [
        {"when": {"field": "kind", "op": "equal_to", "value": "other"},
         "show": ["note"], "require": ["note"]},
    ],
}


def _publish(db: Database) -> None:
    import_definition(db, BUDGET, "form")
    publish_form(db, "rows")


def _rows_sent(page: str) -> int:
    found = re.search(r'name="items-rows" value="(\d+)"', page)
    assert found
    return int(found.group(1))


def test_rows_are_added_filled_checked_removed_and_stored_without_javascript(
    browser: Browser, db: Database
) -> None:
    _publish(db)
    browser.get("/f/rows")
    page = browser.page
    assert wrapper(page, "items").startswith("<fieldset")
    assert _rows_sent(page) == 0
    # Enter in a field sends "next", never a row button: "next" is the form's first button
    first_button = re.search(r'<button[^>]*type="submit"[^>]*>', page)
    assert first_button and 'value="next"' in first_button.group(0)

    browser.step("rows", "costs", {"items-rows": "0"}, action="add_row:items")
    assert browser.status == 200 and _rows_sent(browser.page) == 1
    assert 'name="items-0-item"' in browser.page and 'id="field-items-0-item"' in browser.page
    assert "hidden" in wrapper(browser.page.split('data-row="0"')[1], "note")  # rule: kind
    browser.step("rows", "costs", {"items-rows": "1", "items-0-item": "Miete",
                                   "items-0-amount": "6000"}, action="add_row:items")
    assert _rows_sent(browser.page) == 2
    assert 'value="Miete"' in browser.page  # what was typed is kept

    # next: the second row's cells are checked, the message names the row
    browser.step("rows", "costs", {
        "items-rows": "2", "items-0-item": "Miete", "items-0-amount": "6000",
        "items-1-item": "", "items-1-amount": "-5", "items-1-kind": "other"})
    assert browser.status == 422
    text = text_of(browser.page)
    assert "Zeile 2, Bezeichnung: Bitte füllen Sie dieses Feld aus." in text
    assert "Zeile 2, Erläuterung: Bitte füllen Sie dieses Feld aus." in text
    assert "Zeile 2, Betrag: Bitte geben Sie einen Wert von mindestens 0 ein." in text
    assert 'aria-invalid="true"' in element(browser.page, "field-items-1-item")
    assert ">6000</output>" in browser.page  # the invalid amount counts as empty

    # remove the second row again, then add one with a note
    browser.step("rows", "costs", {
        "items-rows": "2", "items-0-item": "Miete", "items-0-amount": "6000",
        "items-1-item": "", "items-1-amount": "-5"}, action="remove_row:items:1")
    assert _rows_sent(browser.page) == 1
    browser.step("rows", "costs", {"items-rows": "1", "items-0-item": "Miete",
                                   "items-0-amount": "6000"}, action="add_row:items")
    browser.step("rows", "costs", {
        "items-rows": "2", "items-0-item": "Miete", "items-0-amount": "6000",
        "items-0-note": "dropped: hidden in row 1",
        "items-1-item": "Workshop", "items-1-amount": "1500,5", "items-1-kind": "other",
        "items-1-note": "zwei Tage"})
    assert browser.path == "/f/rows/review"
    review = text_of(browser.page)
    assert "1. Bezeichnung: Miete; Betrag: 6000" in review
    assert "2. Bezeichnung: Workshop; Betrag: 1500.5; Art: Sonstiges; Erläuterung: zwei Tage" \
        in review
    assert "dropped" not in review and "Gesamt 7500.5" in review
    browser.submit("rows")
    assert browser.path == "/f/rows/confirmation"
    [submission] = list_submissions(db, form_id="rows")
    assert submission.answers["items"] == [
        {"item": "Miete", "amount": 6000, "kind": None},
        {"item": "Workshop", "amount": 1500.5, "kind": "other", "note": "zwei Tage"},
    ]
    assert submission.answers["total"] == 7500.5


def test_hostile_row_counts_are_refused_with_a_message(browser: Browser, db: Database) -> None:
    _publish(db)
    browser.get("/f/rows")
    browser.step("rows", "costs", {"items-rows": "999999999999"})
    assert browser.status == 422
    assert "Bitte füllen Sie höchstens 3 Zeilen aus." in text_of(browser.page)
    browser.step("rows", "costs", {"items-rows": "-1"})
    assert browser.status == 422
    assert "Bitte füllen Sie mindestens 1 Zeilen aus." in text_of(browser.page)
    for action in ("add_row:nope", "remove_row:items:x", "remove_row:items:99"):
        browser.step("rows", "costs", {"items-rows": "0"}, action=action)
        assert browser.status == 200 and _rows_sent(browser.page) == 0
    assert list_submissions(db, form_id="rows") == []
