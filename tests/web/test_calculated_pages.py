"""Calculated values on the applicant pages without JavaScript: shown read-only with the value
the server computed, never taken from what a browser sends, on the review page and stored."""

from __future__ import annotations

from typing import Any

from engine.messages import message
from engine.services import Database, import_definition, list_submissions, publish_form
from support.web import Browser, element, text_of, wrapper

BUDGET: dict[str, Any] = {
    "id": "budget",
    "title": {"de": "Budget", "en": "Budget"},
    "languages": ["de", "en"],
    "steps": [
        {"id": "costs", "title": {"de": "Kosten", "en": "Costs"}, "fields": [
            {"id": "rent", "type": "number", "min": 0, "label": {"de": "Miete", "en": "Rent"}},
            {"id": "fees", "type": "number", "min": 0,
             "label": {"de": "Honorare", "en": "Fees"}},
            {"id": "total", "type": "calculated", "expression": "sum(rent, fees)",
             "label": {"de": "Gesamtkosten", "en": "Total costs"},
             "help": {"de": "Wird berechnet.", "en": "Calculated."}},
            {"id": "plan", "type": "text", "label": {"de": "Finanzierungsplan", "en": "Plan"}},
        ]},
    ],
    "rules": [
        {"when": {"field": "total", "op": "greater_than", "value": 10000}, "require": ["plan"]},
    ],
}


def _publish(db: Database) -> None:
    import_definition(db, BUDGET, "form")
    publish_form(db, "budget")


def test_a_calculated_value_is_shown_computed_required_by_it_and_stored(
    browser: Browser, db: Database
) -> None:
    _publish(db)
    browser.get("/f/budget")
    page = browser.page
    assert 'class="ff-field ff-calculated"' in wrapper(page, "total")
    output = element(page, "field-total")
    assert output.startswith("<output") and 'data-calculated-for="total"' in output
    assert 'aria-labelledby="field-total-label"' in output
    assert 'name="total"' not in page  # nothing to send

    # a value sent for the calculated field is ignored; the total requires the plan
    browser.step("budget", "costs", {"rent": "6000", "fees": "4000,5", "total": "1"})
    assert browser.status == 422
    assert message("required", "de", {}) in browser.page
    assert ">10000.5</output>" in browser.page
    browser.step("budget", "costs", {"rent": "6000", "fees": "4000", "plan": ""})
    assert browser.path == "/f/budget/review"
    assert "Gesamtkosten 10000" in text_of(browser.page)
    browser.submit("budget")
    assert browser.path == "/f/budget/confirmation"
    [submission] = list_submissions(db, form_id="budget")
    assert submission.answers["total"] == 10000 and submission.answers["rent"] == 6000


def test_a_sum_of_nothing_is_zero_and_an_invalid_operand_counts_as_empty(
    browser: Browser, db: Database
) -> None:
    _publish(db)
    browser.get("/f/budget?lang=en")
    assert ">—</output>" not in browser.page  # sum() of nothing is 0
    assert ">0</output>" in browser.page
    browser.step("budget", "costs", {"rent": "abc", "fees": ""})
    assert browser.status == 422
    assert ">0</output>" in browser.page  # an invalid operand counts as empty
