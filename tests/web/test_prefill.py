"""Prefill from the form's link (issue 17): ``/f/<form>?<field>=<value>`` fills fields that
declare ``"prefill": true`` — checked like any answer, never stored unchecked, never over an
answer the applicant gave; other fields and parameters are ignored."""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from engine.definitions import check_form
from engine.services import Database, import_definition, list_submissions, publish_form
from support.web import SURVEY, Browser, text_of


@pytest.fixture
def survey(db: Database) -> dict[str, Any]:
    data = copy.deepcopy(SURVEY)
    basics = data["steps"][0]["fields"]
    for f in basics:
        if f["id"] in ("kind", "email", "age"):
            f["prefill"] = True
    data["steps"][2]["fields"][0]["prefill"] = True  # topics (checkboxes)
    import_definition(db, data, "form")
    publish_form(db, "survey")
    return data


def _value(page: str, field_id: str) -> str | None:
    found = re.search(rf'<input[^>]*\bname="{field_id}"[^>]*>', page)
    assert found, field_id
    value = re.search(r'\bvalue="([^"]*)"', found.group(0))
    return value.group(1) if value else None


def _notice(page: str) -> str:
    found = re.search(r'<div class="ff-notice" id="refused-notice"[^>]*>(.*?)</div>', page, re.S)
    return text_of(found.group(1)) if found else ""


def test_the_link_fills_prefill_fields_and_the_first_step_stores_them(
    survey: dict[str, Any], browser: Browser, db: Database
) -> None:
    browser.get("/f/survey?email=ada@example.org&age=42&website=https://evil.example"
                "&kind=organisation&topics=a&topics=c&lang=en")
    assert browser.path == "/f/survey/step/basics"
    page = browser.page
    assert _value(page, "email") == "ada@example.org" and _value(page, "age") == "42"
    assert _value(page, "website") in (None, "")  # no "prefill": the link cannot fill it
    assert re.search(r'value="organisation"[^>]*checked|checked[^>]*value="organisation"', page)
    assert _notice(page) == ""
    browser.step("survey", "basics", {"kind": "organisation", "email": "ada@example.org",
                                      "age": "42"})
    browser.step("survey", "organisation", {"org_name": "Verein"})
    assert 'value="a" checked' in browser.page or re.search(
        r'checked[^>]*value="a"', browser.page)
    browser.step("survey", "interests", {"topics": ["a", "c"]})
    browser.submit("survey")
    [stored] = list_submissions(db, form_id="survey")
    assert stored.answers["email"] == "ada@example.org" and stored.answers["age"] == 42


def test_invalid_values_are_left_out_with_a_notice(
    survey: dict[str, Any], browser: Browser, db: Database
) -> None:
    browser.get("/f/survey?email=not-an-address&age=7&kind=somebody")
    page = browser.page
    assert _value(page, "email") in (None, "") and _value(page, "age") in (None, "")
    notice = _notice(page)
    for label in ("E-Mail", "Alter", "Sie antworten als"):
        assert f"„{label}“" in notice
    assert "keine gültige Antwort" in notice
    browser.get("/f/survey/step/basics")
    assert _notice(browser.page) == ""  # said once
    assert list_submissions(db, form_id="survey") == []


def test_hostile_values_are_refused_and_nothing_is_stored(
    survey: dict[str, Any], browser: Browser, db: Database
) -> None:
    for query in ("email=a%00b@example.org", "email=" + "a" * 5000 + "@example.org",
                  "topics=zzz", "topics=a&topics=b&topics=c", "age=1e400"):
        browser.get(f"/f/survey?{query}")
        assert browser.status == 200, query
        assert _notice(browser.page), query
    browser.get("/f/survey/step/basics")
    assert _value(browser.page, "email") in (None, "")


def test_the_link_never_overwrites_an_answer_already_given(
    survey: dict[str, Any], browser: Browser
) -> None:
    browser.get("/f/survey")
    browser.step("survey", "basics", {"kind": "person", "email": "mine@example.org"})
    browser.get("/f/survey?email=link@example.org&age=30")
    browser.get("/f/survey/step/basics")
    assert _value(browser.page, "email") == "mine@example.org"
    assert _value(browser.page, "age") == "30"  # empty before: the link may fill it


def test_prefill_is_a_boolean_of_input_fields() -> None:
    data = copy.deepcopy(SURVEY)
    data["steps"][0]["fields"][0]["prefill"] = "yes"
    assert any(p.pointer == "/steps/0/fields/0/prefill" for p in check_form(data))
    data = copy.deepcopy(SURVEY)
    data["steps"][0]["fields"].append({"id": "note", "type": "paragraph",
                                       "content": "x", "prefill": True})
    assert any(p.pointer.endswith("/prefill") and "does not apply" in p.message
               for p in check_form(data))
