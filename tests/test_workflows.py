"""Workflow definitions: the shipped ones, and every problem at once, each at its pointer.

Firing, guards and what JSON may not name: ``test_workflow_firing.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.exceptions import (
    DefinitionError,
    TransitionNotAllowed,
)
from engine.templating import render_template
from engine.workflows import (
    TransitionOutcome,
    check_roles_held,
    check_workflow,
    fire,
    load_workflow,
    notifications_on_entering,
    workflow_schema,
)
from support.workflows import (
    COORDINATOR,
    base_workflow,
    problems,
    shipped,
)

# --- shipped definitions --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["review", "registration"])
def test_shipped_workflow_loads_without_errors_or_warnings(name: str) -> None:
    data = shipped(name)
    assert check_workflow(data) == []
    workflow = load_workflow(data)
    assert workflow.id == name
    for state in workflow.states:
        assert set(state.label) == {"de", "en"}
    for transition in workflow.transitions:
        assert set(transition.label) == {"de", "en"}
    for template in workflow.templates.values():
        assert set(template.subject) == set(template.body) == {"de", "en"}


def test_shipped_review_is_the_specified_workflow() -> None:
    workflow = load_workflow(shipped("review"))
    assert workflow.initial == "submitted"
    assert {s.id for s in workflow.states if s.final} == {"accepted", "rejected"}
    reject = workflow.transition("reject")
    assert reject is not None and reject.comment == "required"
    assert set(reject.sources) == {"submitted", "reviewed"}
    on_submit = notifications_on_entering(workflow, "submitted")
    assert [(n.to, n.template) for n in on_submit if n.channel == "mail"] == [
        ("applicant", "received"), ("role:coordinator", "new_submission"),
    ]
    assert [n for n in workflow.notifications if n.channel == "webhook"] == []
    assert set(workflow.templates) == {"received", "new_submission", "accepted", "rejected"}
    assert "{{ transition.comment }}" in workflow.templates["rejected"].body["de"]


@pytest.mark.parametrize("name", ["review", "registration"])
@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("answers", [{}, {"name": "Ayşe Demir"}], ids=["no-name", "name"])
def test_shipped_templates_render_in_the_strict_sandbox(
    name: str, language: str, answers: dict[str, Any]
) -> None:
    """A form without a ``name`` field must not break the mails (StrictUndefined)."""
    workflow = load_workflow(shipped(name))
    for template in workflow.templates:
        message = render_template(
            workflow, template, language=language,
            submission={
                "id": 7, "reference": "AVD-2025-0042", "state": workflow.initial,
                "created_at": "2025-01-02T10:00:00+00:00", "form_title": "Antrag",
                "status_url": "https://formflow.example/status/t0ken",
                "inbox_url": "https://formflow.example/inbox/7",
            },
            answers=answers,
            transition={"id": "x", "actor": "coord@example.org", "comment": "Begründung XY"},
        )
        assert "AVD-2025-0042" in message.subject + message.text
        assert ("Ayşe Demir" in message.text) == bool(answers) or template.startswith("new_")
        assert "{{" not in message.text and "{%" not in message.text
        if template == "received":
            assert "https://formflow.example/status/t0ken" in message.text
        if template.startswith("new_"):  # staff mails link to the submission's page
            assert "https://formflow.example/inbox/7" in message.text


def test_registration_happy_paths() -> None:
    workflow = load_workflow(shipped("registration"))
    assert [n.template for n in notifications_on_entering(workflow, "registered")] == [
        "received", "new_registration",
    ]
    waitlisted = fire(workflow, "registered", "waitlist", roles=COORDINATOR, answers={})
    assert waitlisted.to_state == "waitlisted"
    assert [n.template for n in waitlisted.notifications] == ["waitlisted"]
    confirmed = fire(workflow, "waitlisted", "confirm", roles=COORDINATOR, answers={})
    assert (confirmed.to_state, [n.template for n in confirmed.notifications]) == (
        "confirmed", ["confirmed"],
    )
    direct = fire(workflow, "registered", "confirm", roles=COORDINATOR, answers={})
    assert direct.to_state == "confirmed"
    for state in ("registered", "waitlisted", "confirmed"):
        cancelled = fire(workflow, state, "cancel", roles=COORDINATOR, answers={},
                         comment="Veranstaltung ausgefallen")
        assert cancelled.to_state == "cancelled"
        assert [n.template for n in cancelled.notifications] == ["cancelled"]
    with pytest.raises(TransitionNotAllowed):
        fire(workflow, "cancelled", "confirm", roles=COORDINATOR, answers={})
    with pytest.raises(TransitionNotAllowed):
        fire(workflow, "confirmed", "waitlist", roles=COORDINATOR, answers={})


def test_review_happy_path_carries_actor_comment_and_notifications() -> None:
    workflow = load_workflow(shipped("review"))
    reviewed = fire(workflow, "submitted", "review", roles=COORDINATOR, answers={},
                    actor="anna@example.org", comment="   ")
    assert reviewed == TransitionOutcome(
        transition="review", from_state="submitted", to_state="reviewed",
        actor="anna@example.org", comment=None,
        notifications=notifications_on_entering(workflow, "reviewed"),
    )
    assert reviewed.notifications == ()  # nothing is sent on entering "reviewed"
    accepted = fire(workflow, "reviewed", "accept", roles=COORDINATOR, answers={},
                    expected_state="reviewed", comment="  Willkommen!\n")
    assert (accepted.to_state, accepted.comment) == ("accepted", "Willkommen!")
    assert [(n.to, n.template) for n in accepted.notifications] == [
        ("applicant", "accepted"),
    ]
    rejected = fire(workflow, "submitted", "reject", roles=COORDINATOR, answers={},
                    comment="Leider außerhalb unseres Förderzwecks.")
    assert rejected.to_state == "rejected"
    assert [n.template for n in rejected.notifications] == ["rejected"]


# --- semantic errors, each at its pointer ---------------------------------------------------


def test_base_workflow_is_clean() -> None:
    assert check_workflow(base_workflow()) == []


def test_unreachable_state() -> None:
    data = base_workflow()
    data["states"].append({"id": "archived", "label": "Archiviert", "final": True})
    assert problems(data) == [
        '/states/4: state "archived" cannot be reached from the initial state "submitted"'
    ]


def test_final_state_with_outgoing_transition() -> None:
    data = base_workflow()
    data["transitions"].append(
        {"id": "reopen", "from": ["reviewed", "accepted"], "to": "submitted", "roles": ["admin"]}
    )
    assert problems(data) == [
        '/transitions/3/from/1: "accepted" is a final state: no transition may start from it'
    ]
    data["transitions"][3]["from"] = "rejected"
    assert problems(data) == [
        '/transitions/3/from: "rejected" is a final state: no transition may start from it'
    ]


def test_unknown_initial_state() -> None:
    data = base_workflow()
    data["initial"] = "draft"
    assert problems(data) == [
        '/initial: "draft" is not a state (states: "submitted", "reviewed", "accepted", '
        '"rejected")'
    ]


def test_duplicate_state_and_transition_ids() -> None:
    data = base_workflow()
    data["states"].append({"id": "reviewed", "label": "Nochmal"})
    data["transitions"].append(
        {"id": "accept", "from": "submitted", "to": "accepted", "roles": ["coordinator"]}
    )
    assert problems(data) == [
        '/states/4/id: duplicate state id "reviewed" (first used at /states/1)',
        '/transitions/3/id: duplicate transition id "accept" (first used at /transitions/1)',
    ]


def test_unknown_template_and_unknown_states_in_references() -> None:
    data = base_workflow()
    data["notifications"][0]["template"] = "welcome"
    data["notifications"].append({"on": "archived", "to": "applicant", "template": "received"})
    data["transitions"][0]["to"] = "checked"
    data["transitions"][1]["from"] = ["reviewed", "checking"]
    found = problems(data)
    assert '/notifications/0/template: unknown template "welcome" (templates: "received")' in found
    assert '/notifications/2/on: "archived" is not a state (use a state id or "*")' in found
    assert '/transitions/0/to: "checked" is not a state' in found
    assert '/transitions/1/from/1: "checking" is not a state' in found


def test_several_problems_are_reported_at_once() -> None:
    data = base_workflow()
    data["id"] = "Review!"  # schema
    data["initial"] = "draft"  # semantic
    data["states"][1]["colour"] = "blue"  # schema: unknown property, at its own pointer
    data["transitions"][0]["comment"] = "sometimes"  # schema
    data["transitions"][2]["from"] = ["submitted", "accepted"]  # final with outgoing
    data["notifications"][1] = {"on": "rejected", "to": "nobody", "template": "received"}
    data["templates"]["received"]["body"] = "Hallo {{ answers.name "  # Jinja syntax
    pointers = [p.split(": ")[0] for p in problems(data)]
    assert pointers == [
        "/id",
        "/notifications/1/to",
        "/states/1/colour",
        "/transitions/0/comment",
        "/initial",
        "/transitions/2/from/1",
        "/templates/received/body",
    ]
    with pytest.raises(DefinitionError) as refused:
        load_workflow(data)
    assert [p.pointer for p in refused.value.problems] == pointers


def test_schema_messages_are_written_for_administrators() -> None:
    data = base_workflow()
    data["title"] = 5
    data["transitions"][0]["roles"] = []
    data["notifications"][0] = {"on": "submitted"}
    data["notifications"][1] = {"on": "*", "to": "applicant", "template": "received",
                                "webhook": "https://example.org/h",
                                "secret_env": "FORMFLOW_WEBHOOK_S"}
    found = problems(data)
    assert found[0] == (
        '/notifications/0: needs one of "to", "webhook": it must be either a mail '
        "('to' and 'template') or a webhook ('webhook' and 'secret_env')"
    )
    assert found[1].startswith('/notifications/1: has "to" and "webhook"; only one of them')
    assert found[2].startswith("/title: expected a string or an object, got a number")
    assert found[3] == "/transitions/0/roles: must not be empty"
    assert len(found) == 4


@pytest.mark.parametrize(("url", "ok"), [
    ("https://hooks.example.org/formflow", True),
    ("http://127.0.0.1:8080/hook", True),
    ("http://localhost/hook", True),
    ("http://hooks.example.org/formflow", False),  # personal data in clear text
    ("ftp://example.org", False),
    ("https://example.org/a b", False),
])
def test_webhook_must_be_https_except_locally(url: str, ok: bool) -> None:
    data = base_workflow()
    data["notifications"].append({"on": "*", "webhook": url,
                                  "secret_env": "FORMFLOW_WEBHOOK_SECRET"})
    assert (problems(data) == []) is ok


@pytest.mark.parametrize("name", ["PATH", "FORMFLOW_SECRET_KEY", "FORMFLOW_DATABASE_URL",
                                  "WEBHOOK_SECRET", "FORMFLOW_WEBHOOK"])
def test_webhook_secret_must_be_a_formflow_webhook_variable(name: str) -> None:
    """Otherwise the receiver gets bodies signed with, say, the database password."""
    data = base_workflow()
    data["notifications"].append({"on": "*", "webhook": "https://hooks.example.org/h",
                                  "secret_env": name})
    index = len(data["notifications"]) - 1
    assert problems(data) == [
        f'/notifications/{index}/secret_env: "{name}" must start with FORMFLOW_WEBHOOK_ (e.g. '
        "FORMFLOW_WEBHOOK_SECRET): only such variables may hold webhook secrets"
    ]
    with pytest.raises(DefinitionError):
        load_workflow(data)
    # A version stored before the rule still loads (its worker refuses to sign with it).
    stored = load_workflow(data, stored=True)
    assert stored.notifications[-1].secret_env == name


@pytest.mark.parametrize(("to", "ok"), [
    ("applicant", True), ("role:coordinator", True), ("team@example.org", True),
    ("role:", False), ("Role:Coordinator", False), ("nobody", False), ("a@b", False),
])
def test_notification_recipient(to: str, ok: bool) -> None:
    data = base_workflow()
    data["notifications"][0]["to"] = to
    found = problems(data)
    assert (found == []) is ok
    if not ok:
        assert found == [f'/notifications/0/to: "{to}" is not valid here: expected '
                         "'applicant', 'role:<name>' or an e-mail address"]


def test_no_final_state_reachable_is_a_warning_that_does_not_stop_loading() -> None:
    data = base_workflow()
    data["states"].append({"id": "parked", "label": "Geparkt"})
    data["transitions"].append(
        {"id": "park", "from": "reviewed", "to": "parked", "roles": ["coordinator"]}
    )
    assert problems(data) == []
    assert problems(data, "warning") == [
        '/states/4: no final state can be reached from state "parked": submissions would '
        "stay open forever"
    ]
    assert load_workflow(data).state("parked").final is False


def test_unused_template_is_a_warning() -> None:
    data = base_workflow()
    data["templates"]["spare"] = {"subject": "S", "body": "B"}
    assert problems(data, "warning") == [
        '/templates/spare: template "spare" is not used by any notification'
    ]


def test_self_loop_is_a_warning_unless_it_comes_from_star() -> None:
    data = base_workflow()
    data["transitions"].append(
        {"id": "again", "from": ["submitted", "reviewed"], "to": "reviewed",
         "roles": ["coordinator"]}
    )
    assert problems(data) == []
    index = len(data["transitions"]) - 1
    assert problems(data, "warning") == [
        f'/transitions/{index}/from/1: transition "again" goes from "reviewed" back to itself: '
        "firing it changes nothing but the history"
    ]
    data["transitions"][-1]["from"] = "*"  # every open state, itself included: meant so
    assert problems(data, "warning") == []


def test_transitions_nobody_may_fire_are_warnings() -> None:
    workflow = load_workflow(base_workflow())
    every = {role for t in workflow.transitions for role in t.roles}
    assert check_roles_held(workflow, every) == []
    warnings = check_roles_held(workflow, set())
    assert len(warnings) == len(workflow.transitions)
    assert all(w.severity == "warning" for w in warnings)
    assert warnings[0].pointer == "/transitions/0/roles"
    assert f'nobody may fire transition "{workflow.transitions[0].id}"' in warnings[0].message


def test_schema_is_package_data_and_draft_2020_12() -> None:
    schema = workflow_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "https://formflow.example/schemas/workflow.schema.json"
    data = base_workflow()
    data["$schema"] = schema["$id"]
    assert check_workflow(data) == []


@pytest.mark.parametrize("junk", [
    None, 5, "review", [], {}, {"states": "x", "transitions": {"a": 1}},
    {"initial": ["a"], "states": [1, None, {"id": 5}, {"id": "a", "final": "yes"}],
     "transitions": [None, {"id": [], "from": {"a": 1}, "to": 3}, {"from": [None, "a"]}],
     "notifications": [7, {"on": ["x"], "template": {"a": 1}}], "templates": {"t": 5}},
    {"templates": {"t": {"subject": {"de": 5}, "body": ["{{"]}}},
])
def test_check_never_raises_on_malformed_input(junk: Any) -> None:
    found = check_workflow(junk)
    assert found and all(p.severity in ("error", "warning") for p in found)
    with pytest.raises(DefinitionError):
        load_workflow(junk)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(
        ["submitted", "reviewed", "accepted", "*", "", "x", "applicant", "{{", "os.system"]
    ),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "from", "to", "on", "final", "label", "roles", "template",
                         "when", "states", "transitions", "all", "field"]), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(part=st.sampled_from(["states", "transitions", "notifications", "templates", "initial"]),
       junk=_json)
def test_check_never_raises_when_a_part_is_replaced_by_junk(part: str, junk: Any) -> None:
    data = base_workflow()
    data[part] = junk
    for problem in check_workflow(data):
        assert problem.pointer == "" or problem.pointer.startswith("/")


def test_loaded_definition_is_frozen_and_detached_from_the_input() -> None:
    data = base_workflow()
    data["transitions"][1]["when"] = {"field": "amount", "op": "less_than", "value": 100}
    workflow = load_workflow(data)
    data["transitions"][1]["when"]["value"] = 1
    data["states"][0]["id"] = "changed"
    assert workflow.transitions[1].when == {"field": "amount", "op": "less_than", "value": 100}
    assert workflow.initial == workflow.states[0].id == "submitted"
    assert workflow.source["states"][0]["id"] == "submitted"
    with pytest.raises(AttributeError):
        workflow.initial = "x"  # type: ignore[misc]


# --- due_days ---------------------------------------------------------------------------------


def test_due_days_on_a_state_is_loaded() -> None:
    data = base_workflow()
    data["states"][0]["due_days"] = 14
    assert problems(data) == []
    workflow = load_workflow(data)
    assert workflow.states[0].due_days == 14
    assert all(state.due_days is None for state in workflow.states[1:])


@pytest.mark.parametrize("value", [0, -1, 3651, 1.5, "7", True, None])
def test_due_days_must_be_a_whole_number_of_days(value: Any) -> None:
    data = base_workflow()
    data["states"][0]["due_days"] = value
    found = problems(data)
    assert found and all("/states/0/due_days" in p for p in found), found


def test_due_days_on_a_final_state_is_an_error() -> None:
    data = base_workflow()
    final = next(i for i, s in enumerate(data["states"]) if s.get("final"))
    data["states"][final]["due_days"] = 3
    found = problems(data)
    assert any(f"/states/{final}/due_days" in p and "nothing is due" in p for p in found), found
    with pytest.raises(DefinitionError):
        load_workflow(data)
