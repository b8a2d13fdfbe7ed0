"""A form's window and places on the applicant's pages and in the API (issue 17): the start
page, the step pages (a draft submitted after closing too) and the API say so — 409 with a
clear message in the API — and a form with a waiting list says where new applications go."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from engine.services import Database, import_definition, list_submissions, publish_form
from support.web import SURVEY, Browser, text_of

ROOT = Path(__file__).resolve().parents[2]
SURVEY_ANSWERS = {"kind": "person", "topics": ["a"]}
EVENT_ANSWERS = {"event": "jahrestagung_2019", "persons": 1, "name": "Ada",
                 "email": "ada@example.org"}


def _publish_survey(db: Database, **limits: Any) -> None:
    data = copy.deepcopy(SURVEY)
    data.update(limits)
    import_definition(db, data, "form")
    publish_form(db, "survey")


def _api_submit(browser: Browser, form_id: str, answers: dict[str, Any],
                language: str = "de") -> Any:
    return browser.client.post(f"/api/forms/{form_id}/submissions",
                               json={"answers": answers, "language": language})


def _entry(page: str, form_id: str) -> str:
    found = re.search(rf'<li id="form-{form_id}".*?</li>', page, re.S)
    assert found
    return found.group(0)


def test_a_closed_form_says_so_everywhere(browser: Browser, db: Database) -> None:
    _publish_survey(db, closes_at="2020-01-01T12:00")
    browser.get("/")
    entry = _entry(browser.page, "survey")
    assert "am 01.01.2020 12:00 geschlossen" in text_of(entry)
    assert 'id="start-survey"' not in entry
    assert 'id="start-membership"' in browser.page  # other forms are untouched
    browser.get("/f/survey")
    assert browser.status == 200 and 'id="unavailable-notice"' in browser.page
    assert 'data-reason="closed"' in browser.page
    browser.get("/f/survey/step/basics")
    assert 'id="unavailable-notice"' in browser.page and 'id="step-form"' not in browser.page
    refused = browser.client.post("/f/survey/step/basics", data={"kind": "person"})
    assert refused.status_code in (400, 409)  # no CSRF token on a page that has no form
    answer = _api_submit(browser, "survey", SURVEY_ANSWERS)
    assert answer.status_code == 409
    body = answer.get_json()
    assert body["error"] == "form_unavailable" and body["reason"] == "closed"
    assert body["message"] == ("Dieses Formular wurde am 01.01.2020 12:00 geschlossen und nimmt "
                               "keine Einreichungen mehr an.")
    assert body["closes_at"] == "2020-01-01T11:00:00+00:00"
    english = _api_submit(browser, "survey", SURVEY_ANSWERS, "en").get_json()
    assert english["message"].startswith("This form closed on 2020-01-01 12:00")
    assert list_submissions(db, form_id="survey") == []


def test_a_form_not_yet_open(browser: Browser, db: Database) -> None:
    _publish_survey(db, opens_at="2999-05-01T09:00")
    browser.get("/")
    assert "ab 01.05.2999 09:00 geöffnet" in text_of(_entry(browser.page, "survey"))
    body = _api_submit(browser, "survey", SURVEY_ANSWERS).get_json()
    assert body["reason"] == "not_yet_open" and body["opens_at"].startswith("2999-05-01T07:00")


def test_a_draft_submitted_after_closing_is_refused(browser: Browser, db: Database) -> None:
    _publish_survey(db, closes_at="2999-01-01T00:00")
    browser.get("/f/survey")
    browser.step("survey", "basics", {"kind": "person"})
    browser.step("survey", "interests", {"topics": ["a"]})
    assert browser.path == "/f/survey/review"
    _publish_survey(db, closes_at="2020-01-01T00:00")  # closed while the applicant reviewed
    page_token = browser.csrf_token()
    response = browser.client.post("/f/survey/submit", data={"_csrf_token": page_token})
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert 'id="unavailable-notice"' in page and "geschlossen" in text_of(page)
    assert list_submissions(db, form_id="survey") == []


def test_a_full_form_refuses_and_a_freed_place_is_offered_again(
    browser: Browser, db: Database
) -> None:
    _publish_survey(db, capacity=1)
    assert _api_submit(browser, "survey", SURVEY_ANSWERS).status_code == 201
    full = _api_submit(browser, "survey", SURVEY_ANSWERS)
    assert full.status_code == 409 and full.get_json()["reason"] == "full"
    assert "Alle Plätze sind vergeben" in full.get_json()["message"]
    browser.get("/")
    assert "Alle Plätze sind vergeben" in text_of(_entry(browser.page, "survey"))
    browser.get("/f/survey")
    assert 'data-reason="full"' in browser.page


def test_beyond_capacity_onto_the_waiting_list(browser: Browser, db: Database) -> None:
    event = json.loads((ROOT / "forms" / "event-registration.json").read_text("utf-8"))
    assert event["waitlist"] is True and event["capacity"] > 0  # the shipped form keeps one
    event["capacity"] = 1
    import_definition(db, event, "form")
    publish_form(db, "event-registration")
    first = _api_submit(browser, "event-registration", EVENT_ANSWERS)
    assert first.status_code == 201 and first.get_json()["state"] == "registered"
    second = _api_submit(browser, "event-registration", EVENT_ANSWERS)
    assert second.status_code == 201 and second.get_json()["state"] == "waitlisted"
    browser.get("/")
    assert "Warteliste" in text_of(_entry(browser.page, "event-registration"))
    browser.get("/f/event-registration")
    notice = re.search(r'id="availability-notice"[^>]*>(.*?)</p>', browser.page, re.S)
    assert notice and "Neue Anmeldungen kommen auf die Warteliste" in notice.group(1)
    assert 'id="step-form"' in browser.page


@pytest.mark.parametrize("form_id", ["membership", "contact"])
def test_forms_without_limits_show_nothing(browser: Browser, form_id: str) -> None:
    browser.get(f"/f/{form_id}")
    assert 'id="availability-notice"' not in browser.page
    assert 'id="unavailable-notice"' not in browser.page
