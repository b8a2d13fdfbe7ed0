"""How fields, steps and rules are rendered — and evaluated without JavaScript."""

from __future__ import annotations

import json
import re
from html import unescape

from engine.definitions import load_form
from engine.evaluation import evaluate
from engine.messages import message
from engine.services import Database, list_submissions
from support.web import SURVEY, Browser, element, text_of, wrapper


def test_every_field_type_is_rendered_accessibly(browser: Browser) -> None:
    browser.get("/f/survey")
    assert browser.path == "/f/survey/step/basics"
    page = browser.page

    # radio group: a fieldset with a legend, options with bound labels, required on the group
    group = wrapper(page, "kind")
    assert group.startswith("<fieldset")
    assert 'id="field-kind"' in group and 'role="radiogroup"' in group
    assert 'aria-required="true"' in group and 'tabindex="-1"' in group
    assert re.search(r'<fieldset[^>]*data-field="kind"[^>]*>\s*<legend>Sie antworten als', page)
    for index, label in enumerate(("Privatperson", "Organisation")):
        control = element(page, f"field-kind-{index}")
        assert 'type="radio"' in control and 'name="kind"' in control and "required" in control
        assert f'<label for="field-kind-{index}">{label}</label>' in page

    email = element(page, "field-email")
    assert 'type="email"' in email and 'autocomplete="email"' in email
    assert 'inputmode="email"' in email and "required" not in email
    age = element(page, "field-age")
    assert 'type="number"' in age and 'min="16"' in age and 'max="120"' in age
    assert 'inputmode="decimal"' in age
    since = element(page, "field-since")
    assert 'type="date"' in since
    website = element(page, "field-website")
    assert 'type="url"' in website and 'inputmode="url"' in website
    for field_id in ("email", "age", "since", "website"):
        assert f'<label for="field-{field_id}">' in page

    # the form is wired for formflow-form.js, with the definition as data, not code
    form_tag = element(page, "step-form")
    assert "data-formflow" in form_tag and "novalidate" in form_tag
    named = re.search(r'data-definition="([0-9a-f]{64})"', form_tag)
    assert named and "formflow-definition" not in page  # not inline: a file the browser keeps
    script = f"/f/survey/definition/{named.group(1)}.js"
    assert f'<script src="{script}" defer></script>' in page
    served = browser.client.get(script)
    assert served.status_code == 200 and served.mimetype == "text/javascript"
    registered = re.fullmatch(
        r'\(self\.FormflowDefinitions = self\.FormflowDefinitions \|\| \{\}\)'
        r'\["([0-9a-f]{64})"\] = (.*);\n', served.get_data(as_text=True), re.S
    )
    assert registered and registered.group(1) == named.group(1)
    assert json.loads(registered.group(2)) == SURVEY
    assert 'data-step="basics"' in page


def test_checkbox_group(browser: Browser) -> None:
    browser.get("/f/survey")
    browser.step("survey", "basics", {"kind": "person"})
    assert browser.path == "/f/survey/step/interests"
    page = browser.page
    group = wrapper(page, "topics")
    assert group.startswith("<fieldset") and 'role="radiogroup"' not in group
    boxes = re.findall(r'<input[^>]*name="topics"[^>]*>', page)
    assert len(boxes) == 3 and all('type="checkbox"' in b for b in boxes)
    assert all("required" not in b for b in boxes)  # one required box would demand each box
    assert 'aria-required="true"' in group  # the group is what is required

    browser.step("survey", "interests", {"topics": []})
    assert browser.status == 422
    assert message("choose_one", "de", {}) in browser.page
    assert 'aria-invalid="true"' in wrapper(browser.page, "topics")
    assert "field-topics-error" in wrapper(browser.page, "topics")
    browser.step("survey", "interests", {"topics": ["a", "b", "c"]})
    assert browser.status == 422
    assert message("max_selected", "de", {"max_selected": 2}) in browser.page
    assert len(re.findall(r'<input[^>]*checked[^>]*name="topics"', browser.page)) == 3

    browser.step("survey", "interests", {"topics": ["b", "a"]})
    assert browser.path == "/f/survey/review"
    assert "Thema A, Thema B" in text_of(browser.page)


def test_without_javascript_hidden_steps_are_skipped_and_counted_out(
    browser: Browser, db: Database
) -> None:
    browser.get("/f/survey")
    assert "Schritt 1 von 2" in text_of(browser.page)  # "organisation" is hidden: not counted
    assert 'data-step-link="organisation"' not in browser.page

    # a hidden step is never shown, even when asked for directly
    browser.get("/f/survey/step/organisation")
    assert browser.path == "/f/survey/step/interests"

    browser.step("survey", "basics", {"kind": "person", "age": "abc"})
    assert browser.status == 422
    assert message("not_a_number", "de", {}) in browser.page
    assert 'value="abc"' in browser.page
    browser.step("survey", "basics", {"kind": "person", "age": "42"})
    assert browser.path == "/f/survey/step/interests"
    assert "Schritt 2 von 2" in text_of(browser.page)
    browser.step("survey", "interests", {}, action="back")
    assert browser.path == "/f/survey/step/basics"

    # choosing "organisation" brings the step in, required field and all
    browser.step("survey", "basics", {"kind": "organisation", "age": "42"})
    assert browser.path == "/f/survey/step/organisation"
    assert "Schritt 2 von 3" in text_of(browser.page)
    browser.step("survey", "organisation", {"org_name": ""})
    assert browser.status == 422
    assert message("required", "de", {}) in browser.page
    browser.step("survey", "organisation", {"org_name": "Verein e. V."})
    assert "Schritt 3 von 3" in text_of(browser.page)
    browser.step("survey", "interests", {"topics": ["a"]})
    assert browser.path == "/f/survey/review"
    assert "Verein e. V." in browser.page

    # back to "person": the organisation step leaves the review and the stored answers
    browser.get("/f/survey/step/basics?return=review")
    browser.step("survey", "basics", {"kind": "person", "age": "42"}, _return="review")
    assert browser.path == "/f/survey/review"
    assert "Verein e. V." not in browser.page
    assert 'id="review-organisation"' not in browser.page
    browser.submit("survey")
    assert browser.path == "/f/survey/confirmation"
    [submission] = list_submissions(db, form_id="survey")
    assert "org_name" not in submission.answers
    assert submission.answers["kind"] == "person" and submission.answers["age"] == 42
    assert dict(submission.answers) == evaluate(
        load_form(SURVEY), {"kind": "person", "age": "42", "topics": ["a"]}
    ).answers


def test_browser_gets_the_answers_of_the_other_steps(browser: Browser) -> None:
    browser.get("/f/survey")
    browser.step("survey", "basics", {"kind": "organisation", "email": "a@example.org"})
    page = browser.page
    answers = re.search(
        r'<script type="application/json" id="formflow-answers">(.*?)</script>', page, re.S
    )
    assert answers
    known = json.loads(unescape(answers.group(1)))
    assert known["kind"] == "organisation" and known["email"] == "a@example.org"
    assert "org_name" not in known  # this page's own fields come from its controls


def test_final_submit_is_validated_again_on_the_server(browser: Browser, db: Database) -> None:
    """Skipping a step by URL does not get past the authoritative final validation."""
    browser.get("/f/survey")
    browser.step("survey", "basics", {"kind": "organisation"})
    browser.get("/f/survey/review")  # "organisation" never answered
    assert 'href="/f/survey/step/organisation?return=review#field-org_name"' in browser.page
    browser.submit("survey")
    assert browser.status == 422
    assert browser.path == "/f/survey/submit"
    assert "Name der Organisation" in browser.page
    assert 'id="error-summary"' in browser.page
    assert list_submissions(db, form_id="survey") == []
