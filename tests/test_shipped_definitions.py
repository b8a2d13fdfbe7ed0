"""The definitions we ship are clean, and the membership form behaves as its seed page did."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.definitions import check_form, load_form
from engine.evaluation import evaluate
from engine.model import FormDefinition
from engine.workflows import check_guards_against_form, check_workflow, load_workflow

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FORM_FILES = sorted((PROJECT_ROOT / "forms").glob("*.json"))
WORKFLOW_FILES = sorted((PROJECT_ROOT / "workflows").glob("*.json"))


def _read(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_three_forms_are_shipped() -> None:
    assert {p.name for p in FORM_FILES} >= {
        "membership.json", "contact.json", "event-registration.json",
    }


@pytest.mark.parametrize("path", FORM_FILES, ids=lambda p: p.name)
def test_shipped_form_has_no_problem(path: Path) -> None:
    data = _read(path)
    assert [p.format() for p in check_form(data)] == []
    assert path.stem == data["id"], "forms/<id>.json"
    assert data["languages"] == ["de", "en"]


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_shipped_workflow_has_no_problem(path: Path) -> None:
    data = _read(path)
    assert [p.format() for p in check_workflow(data)] == []
    assert path.stem == data["id"], "workflows/<id>.json"


@pytest.mark.parametrize("path", FORM_FILES, ids=lambda p: p.name)
def test_form_names_a_shipped_workflow_whose_guards_fit_it(path: Path) -> None:
    """What publishing checks: the workflow exists and its guards read this form's fields."""
    form = load_form(_read(path))
    workflow_file = PROJECT_ROOT / "workflows" / f"{form.workflow}.json"
    assert workflow_file.is_file(), f"{path.name} names workflow {form.workflow!r}"
    workflow = load_workflow(_read(workflow_file))
    assert [p.format() for p in check_guards_against_form(workflow, form)] == []


@pytest.mark.parametrize("path", FORM_FILES, ids=lambda p: p.name)
def test_every_text_is_in_german_and_english(path: Path) -> None:
    """A missing English text would silently fall back to German; we ship both."""
    untranslated = []

    def visit(node: Any, pointer: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("title", "description", "label", "help", "placeholder", "content",
                           "pattern_message", "confirmation"):
                    if not (isinstance(value, dict) and set(value) == {"de", "en"}
                            and all(str(v).strip() for v in value.values())):
                        untranslated.append(f"{pointer}/{key}")
                else:
                    visit(value, f"{pointer}/{key}")
        elif isinstance(node, list):
            for index, item in enumerate(node):
                visit(item, f"{pointer}/{index}")

    visit(_read(path), "")
    assert untranslated == []


# --- the membership form ------------------------------------------------------------------


@pytest.fixture(scope="module")
def membership() -> FormDefinition:
    return load_form(_read(PROJECT_ROOT / "forms" / "membership.json"))


COMPLETE = {
    "request": True,
    "name": "Ada Muster",
    "institution": "Stadt Musterstadt",
    "function": "Referentin für Bürgerbeteiligung",
    "street": "Hauptstraße 1",
    "postcode": "10117",
    "town": "Berlin",
    "phone": "+49 30 123456",
    "email": "ada@example.org",
    "activities": "Ich begleite Bürgerhaushalte.",
}


def test_membership_contract(membership: FormDefinition) -> None:
    """Ids and settings the other parts (mails, API, browser tests) rely on."""
    fields = membership.field_map()
    assert {"name", "email", "topic", "topic_consent", "institution", "function", "street",
            "postcode", "town", "phone", "activities"} <= set(fields)
    assert membership.workflow == "review"
    assert (membership.applicant_email, membership.applicant_name) == ("email", "name")
    assert len(membership.steps) >= 3
    assert fields["email"].type == "email" and fields["email"].required
    assert fields["name"].required and fields["name"].autocomplete == "name"
    assert fields["postcode"].pattern == "^[0-9]{5}$"
    assert fields["activities"].max_length == 1000 and fields["activities"].counter
    assert fields["topic"].type == "select" and not fields["topic"].required
    assert fields["topic"].option_values() == (
        "integrierte_partizipation", "transparenz", "qualitaet", "kompetenz", "beteiligung",
    )
    assert fields["topic_consent"].type == "checkbox"
    assert not fields["topic_consent"].required


def test_without_topic_the_consent_is_hidden_and_a_sent_consent_dropped(
    membership: FormDefinition,
) -> None:
    result = evaluate(membership, {**COMPLETE, "topic": "", "topic_consent": True})
    assert "topic_consent" not in result.visible_fields
    assert "topic_consent" not in result.required
    assert result.invalid == []
    assert result.answers is not None
    assert result.answers["topic"] is None
    assert "topic_consent" not in result.answers
    assert "request_text" not in result.answers  # a paragraph is never an answer


def test_with_a_topic_the_consent_is_shown_and_required(membership: FormDefinition) -> None:
    result = evaluate(membership, {**COMPLETE, "topic": "transparenz"}, language="de")
    assert "topic_consent" in result.visible_fields
    assert "topic_consent" in result.required
    assert result.invalid == ["topic_consent"]
    assert result.answers is None
    assert result.errors["topic_consent"]

    given = evaluate(membership, {**COMPLETE, "topic": "transparenz", "topic_consent": True})
    assert given.invalid == []
    assert given.answers is not None
    assert given.answers["topic"] == "transparenz"
    assert given.answers["topic_consent"] is True


def test_membership_needs_name_email_and_the_request(membership: FormDefinition) -> None:
    result = evaluate(membership, {}, language="en")
    assert result.invalid == ["email", "name", "request"]
    assert result.visible_steps == [s.id for s in membership.steps]


@pytest.mark.parametrize(
    ("postcode", "valid"), [("10117", True), ("1011", False), ("101177", False), ("AB123", False)]
)
def test_postcode_has_five_digits_with_a_clear_message(
    membership: FormDefinition, postcode: str, valid: bool
) -> None:
    de = evaluate(membership, {**COMPLETE, "postcode": postcode}, language="de")
    assert ("postcode" not in de.invalid) is valid
    if not valid:
        en = evaluate(membership, {**COMPLETE, "postcode": postcode}, language="en")
        assert de.errors["postcode"] == [
            "Bitte geben Sie eine fünfstellige Postleitzahl ein, zum Beispiel 10117."
        ]
        assert en.errors["postcode"] == ["Please enter a five-digit postcode, for example 10117."]


def test_activities_are_limited_to_1000_characters(membership: FormDefinition) -> None:
    assert "activities" not in evaluate(membership, {**COMPLETE, "activities": "x" * 1000}).invalid
    assert "activities" in evaluate(membership, {**COMPLETE, "activities": "x" * 1001}).invalid


# --- the other forms ----------------------------------------------------------------------


def test_dietary_needs_are_asked_only_for_the_annual_conference() -> None:
    form = load_form(_read(PROJECT_ROOT / "forms" / "event-registration.json"))
    person = {"name": "Ada Muster", "email": "ada@example.org", "persons": "2"}
    conference = evaluate(form, {**person, "event": "jahrestagung_2019", "dietary": "vegan"})
    assert "dietary" in conference.visible_fields
    assert conference.answers is not None and conference.answers["dietary"] == "vegan"
    assert conference.answers["persons"] == 2

    evening = evaluate(
        form,
        {**person, "event": "laendergruppe_berlin_brandenburg_2019_02_11", "dietary": "vegan"},
    )
    assert "dietary" not in evening.visible_fields
    assert evening.answers is not None and "dietary" not in evening.answers
    assert form.workflow == "registration"


@pytest.mark.parametrize(("persons", "valid"), [("1", True), ("5", True), ("0", False),
                                                 ("6", False), ("2,5", False)])
def test_between_one_and_five_people_register(persons: str, valid: bool) -> None:
    form = load_form(_read(PROJECT_ROOT / "forms" / "event-registration.json"))
    answers = {"name": "Ada", "email": "ada@example.org", "event": "jahrestagung_2019",
               "persons": persons}
    assert ("persons" not in evaluate(form, answers).invalid) is valid


def test_contact_requires_message_and_privacy_consent() -> None:
    form = load_form(_read(PROJECT_ROOT / "forms" / "contact.json"))
    assert form.workflow == "review"
    result = evaluate(form, {"name": "Ada", "email": "ada@example.org", "subject": "Frage"})
    assert result.invalid == ["message", "privacy_consent"]
    fine = evaluate(form, {"name": "Ada", "email": "ada@example.org", "subject": "Frage",
                           "message": "Wann ist die nächste Jahrestagung?",
                           "privacy_consent": True})
    assert fine.invalid == []


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_shipped_workflow_posts_no_webhook(path: Path) -> None:
    """A fresh install has no receiver to post to: every event would end as a failed webhook
    (issue 18). docs/notifications.md shows how to add one."""
    workflow = load_workflow(_read(path))
    assert [n.webhook for n in workflow.notifications if n.channel == "webhook"] == []


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_state_of_a_shipped_workflow_can_reach_a_final_state(path: Path) -> None:
    """Retention only erases submissions in a final state: none may be stuck before one."""
    workflow = load_workflow(_read(path))
    finals = {s.id for s in workflow.states if s.final}
    reaches = set(finals)
    changed = True
    while changed:
        changed = False
        for transition in workflow.transitions:
            if transition.to in reaches and not set(transition.sources) <= reaches:
                reaches |= set(transition.sources)
                changed = True
    assert {s.id for s in workflow.states} == reaches


def test_a_registration_is_completed_after_the_event() -> None:
    workflow = load_workflow(_read(PROJECT_ROOT / "workflows" / "registration.json"))
    complete = workflow.transition("complete")
    assert complete is not None and workflow.state(complete.to).final
    assert set(complete.sources) == {"registered", "waitlisted", "confirmed"}


@pytest.mark.parametrize(("name", "field_id"), [("membership.json", "topic_consent"),
                                                 ("contact.json", "privacy_consent")])
def test_the_shipped_consent_boxes_record_their_consent(name: str, field_id: str) -> None:
    form = load_form(_read(PROJECT_ROOT / "forms" / name))
    assert [f.id for f in form.fields() if f.consent] == [field_id]
