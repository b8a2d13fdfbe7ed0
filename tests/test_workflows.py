"""Workflow definitions and firing: every problem at once, every refusal with its own error.

The state machine is the real ``transitions`` one, the guards the real rule language of
``engine.conditions``; nothing is mocked.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.definitions import load_form
from engine.exceptions import (
    CommentNotAllowed,
    CommentRequired,
    DefinitionError,
    FormflowError,
    GuardFailed,
    RoleNotAllowed,
    StaleState,
    TransitionError,
    TransitionNotAllowed,
    UnknownTransition,
)
from engine.model import FormDefinition, Transition, WorkflowDefinition
from engine.templating import render_template
from engine.workflows import (
    TransitionOutcome,
    available_transitions,
    bind_guards,
    check_guards_against_form,
    check_workflow,
    compile_workflow,
    fire,
    load_workflow,
    notifications_on_entering,
    workflow_schema,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
COORDINATOR = ["coordinator"]


def shipped(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (PROJECT_ROOT / "workflows" / f"{name}.json").read_text(encoding="utf-8")
    )
    return data


def base_workflow() -> dict[str, Any]:
    """The example of DEFINITIONS §3, small enough to break one thing at a time."""
    return {
        "id": "review",
        "title": {"de": "Prüfung", "en": "Review"},
        "initial": "submitted",
        "states": [
            {"id": "submitted", "label": {"de": "Eingegangen", "en": "Submitted"}},
            {"id": "reviewed", "label": {"de": "Geprüft", "en": "Reviewed"}},
            {"id": "accepted", "label": "Angenommen", "final": True},
            {"id": "rejected", "label": "Abgelehnt", "final": True},
        ],
        "transitions": [
            {"id": "review", "from": "submitted", "to": "reviewed", "roles": ["coordinator"]},
            {"id": "accept", "from": "reviewed", "to": "accepted", "roles": ["coordinator"]},
            {"id": "reject", "from": ["submitted", "reviewed"], "to": "rejected",
             "roles": ["coordinator"], "comment": "required"},
        ],
        "notifications": [
            {"on": "submitted", "to": "applicant", "template": "received"},
            {"on": "rejected", "to": "applicant", "template": "received"},
        ],
        "templates": {"received": {"subject": "Danke", "body": "Hallo {{ answers.name }}"}},
    }


def problems(data: Any, severity: str = "error") -> list[str]:
    return [p.format() for p in check_workflow(data) if p.severity == severity]


def guard_form() -> FormDefinition:
    return load_form({
        "id": "grant",
        "title": "Förderantrag",
        "languages": ["de", "en"],
        "steps": [{"id": "main", "title": "Antrag", "fields": [
            {"id": "amount", "type": "number", "label": "Betrag"},
            {"id": "topic", "type": "select", "label": "Thema",
             "options": [{"value": "youth", "label": "Jugend"},
                         {"value": "art", "label": "Kunst"}]},
        ]}],
        "rules": [],
    })


def guarded_workflow(when: Any) -> dict[str, Any]:
    data = base_workflow()
    data["transitions"][1]["when"] = when
    return data


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
    hooks = [n for n in workflow.notifications if n.channel == "webhook"]
    assert [(h.on, h.webhook, h.secret_env) for h in hooks] == [
        ("*", "https://example.org/hook", "FORMFLOW_WEBHOOK_SECRET"),
    ]
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
            },
            answers=answers,
            transition={"id": "x", "actor": "coord@example.org", "comment": "Begründung XY"},
        )
        assert "AVD-2025-0042" in message.subject + message.text
        assert ("Ayşe Demir" in message.text) == bool(answers) or template.startswith("new_")
        assert "{{" not in message.text and "{%" not in message.text
        if template == "received":
            assert "https://formflow.example/status/t0ken" in message.text


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
    assert [n.channel for n in reviewed.notifications] == ["webhook"]  # only "*"
    accepted = fire(workflow, "reviewed", "accept", roles=COORDINATOR, answers={},
                    expected_state="reviewed", comment="  Willkommen!\n")
    assert (accepted.to_state, accepted.comment) == ("accepted", "Willkommen!")
    assert [(n.to, n.template) for n in accepted.notifications] == [
        ("applicant", "accepted"), (None, None),
    ]
    rejected = fire(workflow, "submitted", "reject", roles=COORDINATOR, answers={},
                    comment="Leider außerhalb unseres Förderzwecks.")
    assert rejected.to_state == "rejected"
    assert [n.template for n in rejected.notifications] == ["rejected", None]


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
                                "webhook": "https://example.org/h", "secret_env": "S"}
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
    data["notifications"].append({"on": "*", "webhook": url, "secret_env": "HOOK_SECRET"})
    assert (problems(data) == []) is ok


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


# --- firing -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def review() -> WorkflowDefinition:
    data = base_workflow()
    data["transitions"].append({"id": "note", "from": "*", "to": "reviewed",
                                "roles": ["coordinator"], "comment": "none"})
    return load_workflow(data)


def test_star_expands_to_every_non_final_state(review: WorkflowDefinition) -> None:
    note = review.transition("note")
    assert note is not None and note.sources == ("submitted", "reviewed")
    assert fire(review, "reviewed", "note", roles=COORDINATOR, answers={}).to_state == "reviewed"
    with pytest.raises(TransitionNotAllowed):
        fire(review, "accepted", "note", roles=COORDINATOR, answers={})


def test_star_never_counts_as_leaving_a_final_state() -> None:
    data = base_workflow()
    data["transitions"].append(
        {"id": "withdraw", "from": "*", "to": "rejected", "roles": ["coordinator"]}
    )
    assert check_workflow(data) == []


@pytest.mark.parametrize(("call", "error", "code"), [
    (dict(transition_id="approve"), UnknownTransition, "unknown_transition"),
    (dict(transition_id="accept", expected_state="submitted"), StaleState, "conflict"),
    (dict(transition_id="accept", roles=["applicant"]), RoleNotAllowed, "forbidden"),
    (dict(transition_id="accept", roles=[]), RoleNotAllowed, "forbidden"),
    (dict(transition_id="accept", state="submitted"), TransitionNotAllowed, "conflict"),
    (dict(transition_id="accept", state="accepted"), TransitionNotAllowed, "conflict"),
    (dict(transition_id="accept", state="no_such_state"), TransitionNotAllowed, "conflict"),
    (dict(transition_id="reject"), CommentRequired, "comment_required"),
    (dict(transition_id="reject", comment=" \n\t"), CommentRequired, "comment_required"),
    (dict(transition_id="note", comment="hi"), CommentNotAllowed, "comment_not_allowed"),
])
def test_every_refusal_has_its_own_error(
    review: WorkflowDefinition, call: dict[str, Any], error: type[TransitionError], code: str
) -> None:
    kwargs: dict[str, Any] = {"state": "reviewed", "roles": COORDINATOR, "answers": {}} | call
    with pytest.raises(error) as refused:
        fire(review, **kwargs)
    assert refused.value.code == code
    assert isinstance(refused.value, FormflowError) and str(refused.value)


def test_checks_run_in_the_documented_order(review: WorkflowDefinition) -> None:
    """Each call breaks two rules; the earlier check in fire()'s order must win."""
    def refusal(**kwargs: Any) -> type[Exception]:
        base: dict[str, Any] = {"state": "reviewed", "roles": COORDINATOR, "answers": {}}
        with pytest.raises(TransitionError) as refused:
            fire(review, **(base | kwargs))
        return type(refused.value)

    never: Any = lambda transition, answers: False  # noqa: E731
    assert refusal(transition_id="nope", expected_state="x") is UnknownTransition
    assert refusal(transition_id="accept", expected_state="x", roles=[]) is StaleState
    assert refusal(transition_id="accept", roles=["x"], state="submitted") is RoleNotAllowed
    guarded = load_workflow(guarded_workflow({"field": "amount", "op": "is_empty"}))
    assert refusal_on(guarded, "accept", state="submitted", guard=never) is TransitionNotAllowed
    assert refusal_on(guarded, "reject", comment=None, guard=never) is CommentRequired
    data = guarded_workflow({"field": "amount", "op": "is_empty"})
    data["transitions"][1]["comment"] = "required"
    assert refusal_on(load_workflow(data), "accept", guard=never) is GuardFailed


def refusal_on(workflow: WorkflowDefinition, transition_id: str, **kwargs: Any) -> type[Exception]:
    base: dict[str, Any] = {"state": "reviewed", "roles": COORDINATOR, "answers": {}}
    with pytest.raises(TransitionError) as refused:
        fire(workflow, transition_id=transition_id, **(base | kwargs))
    return type(refused.value)


def test_admin_may_fire_every_transition(review: WorkflowDefinition) -> None:
    data = base_workflow()
    data["transitions"][1]["roles"] = ["board"]
    workflow = load_workflow(data)
    with pytest.raises(RoleNotAllowed):
        fire(workflow, "reviewed", "accept", roles=COORDINATOR, answers={})
    assert fire(workflow, "reviewed", "accept", roles=["board"], answers={}).to_state == "accepted"
    assert fire(workflow, "reviewed", "accept", roles=["admin"], answers={}).to_state == "accepted"
    assert fire(workflow, "reviewed", "accept", roles="admin", answers={}).to_state == "accepted"
    # ... but admin does not bypass the state, the guard or the comment policy:
    with pytest.raises(TransitionNotAllowed):
        fire(workflow, "submitted", "accept", roles=["admin"], answers={})
    with pytest.raises(CommentRequired):
        fire(workflow, "reviewed", "reject", roles=["admin"], answers={})


def test_available_transitions(review: WorkflowDefinition) -> None:
    def ids(state: str, roles: list[str]) -> list[str]:
        found = available_transitions(review, state, roles=roles, answers={})
        return [t.id for t in found]

    assert ids("submitted", COORDINATOR) == ["review", "reject", "note"]
    assert ids("reviewed", COORDINATOR) == ["accept", "reject", "note"]
    assert ids("reviewed", ["admin"]) == ["accept", "reject", "note"]
    assert ids("reviewed", ["applicant"]) == []
    assert ids("accepted", ["admin"]) == []
    assert ids("unknown", ["admin"]) == []


def test_notifications_on_entering_include_star(review: WorkflowDefinition) -> None:
    data = base_workflow()
    data["notifications"].append({"on": "*", "webhook": "https://example.org/h",
                                  "secret_env": "HOOK_SECRET"})
    workflow = load_workflow(data)
    assert [(n.on, n.channel) for n in notifications_on_entering(workflow, "submitted")] == [
        ("submitted", "mail"), ("*", "webhook"),
    ]
    assert [n.on for n in notifications_on_entering(workflow, "reviewed")] == ["*"]
    assert notifications_on_entering(review, "reviewed") == ()


def test_compiled_once_per_definition(review: WorkflowDefinition) -> None:
    compiled = compile_workflow(review)
    assert compile_workflow(review) is compiled
    assert compile_workflow(compiled) is compiled
    assert compiled.definition is review
    other = load_workflow(base_workflow())
    assert compile_workflow(other) is not compile_workflow(load_workflow(base_workflow()))
    assert fire(compiled, "submitted", "review", roles=COORDINATOR, answers={}).to_state == (
        "reviewed"
    )


# --- nothing from JSON can name a callable --------------------------------------------------


@pytest.mark.parametrize("name", ["os.system", "builtins.eval", "__import__", "Review", "a-b",
                                  "review\n", "x" * 65])
def test_ids_that_could_name_a_callable_are_refused(name: str) -> None:
    for where in ("transition", "state"):
        data = base_workflow()
        if where == "transition":
            data["transitions"][0]["id"] = name
            pointer = "/transitions/0/id"
        else:
            data["states"].append({"id": name, "label": "X", "final": True})
            data["transitions"].append(
                {"id": "t", "from": "reviewed", "to": name, "roles": ["admin"]}
            )
            pointer = "/states/4/id"
        found = problems(data)
        assert any(p.startswith(f"{pointer}: ") and "is not valid here" in p for p in found)
        with pytest.raises(DefinitionError):
            load_workflow(data)


def test_the_machine_holds_only_our_own_callables() -> None:
    """``transitions`` would import ``"os.system"`` if a condition or callback were a string."""
    data = base_workflow()
    data["states"].append({"id": "trigger", "label": "T"})
    data["transitions"] += [
        {"id": "state", "from": "reviewed", "to": "trigger", "roles": ["coordinator"]},
        {"id": "trigger", "from": "trigger", "to": "accepted", "roles": ["coordinator"]},
    ]
    workflow = load_workflow(data)
    machine = compile_workflow(workflow).machine
    callback_lists = [machine.before_state_change, machine.after_state_change,
                      machine.prepare_event, machine.finalize_event, machine.on_exception,
                      machine.on_final]
    for state in machine.states.values():
        callback_lists += [state.on_enter, state.on_exit]
    for event in machine.events.values():
        for transitions in event.transitions.values():
            for transition in transitions:
                callback_lists += [transition.prepare, transition.before, transition.after]
                for condition in transition.conditions:
                    assert callable(condition.func) and not isinstance(condition.func, str)
                    assert condition.func.__module__ == "engine.machine"
    assert all(callbacks == [] for callbacks in callback_lists)
    assert set(machine.events) == {t.id for t in workflow.transitions}
    # names that are special to transitions or to Python objects fire like any other
    assert fire(workflow, "reviewed", "state", roles=COORDINATOR, answers={}).to_state == (
        "trigger"
    )
    assert fire(workflow, "trigger", "trigger", roles=COORDINATOR, answers={}).to_state == (
        "accepted"
    )


# --- guards -----------------------------------------------------------------------------------


def test_guard_bound_to_the_form_decides(review: WorkflowDefinition) -> None:
    form = guard_form()
    workflow = load_workflow(guarded_workflow(
        {"all": [{"field": "amount", "op": "less_or_equal", "value": "5000"},
                 {"field": "topic", "op": "one_of", "value": ["youth"]}]}
    ))
    assert check_guards_against_form(workflow, form) == []
    guard = bind_guards(workflow, form)
    fits = {"amount": 4000, "topic": "youth"}
    too_much = {"amount": 9000, "topic": "youth"}
    outcome = fire(workflow, "reviewed", "accept", roles=COORDINATOR, answers=fits, guard=guard)
    assert outcome.to_state == "accepted"
    with pytest.raises(GuardFailed) as refused:
        fire(workflow, "reviewed", "accept", roles=COORDINATOR, answers=too_much, guard=guard)
    assert refused.value.code == "conflict"

    def offered(answers: Mapping[str, Any]) -> list[str]:
        found = available_transitions(workflow, "reviewed", roles=COORDINATOR,
                                      answers=answers, guard=guard)
        return [t.id for t in found]

    assert offered(fits) == ["accept", "reject"]
    assert offered(too_much) == ["reject"]
    assert offered({}) == ["reject"]


def test_guard_problems_point_into_the_workflow() -> None:
    form = guard_form()
    workflow = load_workflow(guarded_workflow(
        {"any": [{"field": "budget", "op": "is_empty"},
                 {"field": "amount", "op": "contains", "value": "1"}]}
    ))
    found = check_guards_against_form(workflow, form)
    assert [p.pointer for p in found] == [
        "/transitions/1/when/any/0/field", "/transitions/1/when/any/1/op",
    ]
    with pytest.raises(DefinitionError) as refused:
        bind_guards(workflow, form)
    assert [p.pointer for p in refused.value.problems] == [p.pointer for p in found]


def test_guard_structure_is_checked_without_a_form() -> None:
    data = guarded_workflow({"field": "amount", "op": "bigger_than", "value": 3})
    assert problems(data) == [
        '/transitions/1/when/op: "bigger_than" is not one of "equal_to", "not_equal_to", '
        '"contains", "not_contains", "starts_with", "ends_with", "greater_than", '
        '"greater_or_equal", "less_than", "less_or_equal", "one_of", "none_of", "is_empty", '
        '"is_not_empty"'
    ]
    data = guarded_workflow({"field": "amount", "op": "is_empty", "not": {}})
    assert problems(data)[0].startswith('/transitions/1/when: has "field" and "not"; only one')


def test_schema_operators_are_the_rule_language_operators() -> None:
    """The schema checks a guard's shape without a form; its op list must not drift."""
    from engine.conditions import OPERATORS

    schema_ops = workflow_schema()["$defs"]["condition"]["properties"]["op"]["enum"]
    assert set(schema_ops) == set(OPERATORS)


def test_firing_a_guarded_transition_without_a_guard_is_a_programming_error() -> None:
    workflow = load_workflow(guarded_workflow({"field": "amount", "op": "is_empty"}))
    with pytest.raises(TypeError, match="bind_guards"):
        fire(workflow, "reviewed", "accept", roles=COORDINATOR, answers={})
    with pytest.raises(TypeError, match="bind_guards"):
        available_transitions(workflow, "reviewed", roles=COORDINATOR, answers={})
    # unguarded transitions need no guard
    assert fire(workflow, "submitted", "review", roles=COORDINATOR, answers={}).to_state == (
        "reviewed"
    )


def test_guard_of_another_workflow_refuses_unknown_guarded_transitions() -> None:
    form = guard_form()
    guard = bind_guards(load_workflow(base_workflow()), form)  # no guards at all
    foreign = Transition(id="accept", sources=("reviewed",), to="accepted", roles=("x",),
                         when={"field": "amount", "op": "is_empty"})
    assert guard(foreign, {}) is False


# --- thread safety ----------------------------------------------------------------------------


def test_concurrent_fires_on_one_compiled_workflow_stay_independent() -> None:
    """Each thread fires its own sequence; guards answer per thread. Outcomes must never mix."""
    data = base_workflow()
    data["transitions"][1]["when"] = {"field": "amount", "op": "less_than", "value": 100}
    workflow = load_workflow(data)
    compiled = compile_workflow(workflow)
    guard = bind_guards(workflow, guard_form())
    threads_count, rounds = 8, 150
    barrier = threading.Barrier(threads_count)
    results: dict[int, list[tuple[str, str | None]]] = {}
    failures: list[BaseException] = []

    def work(worker: int) -> None:
        answers = {"amount": 10 if worker % 2 == 0 else 500}
        seen: list[tuple[str, str | None]] = []
        try:
            barrier.wait()
            for round_no in range(rounds):
                comment = f"w{worker}-r{round_no}"
                reviewed = fire(compiled, "submitted", "review", roles=COORDINATOR,
                                answers=answers, guard=guard, actor=f"worker{worker}")
                assert reviewed.actor == f"worker{worker}"
                try:
                    done = fire(compiled, reviewed.to_state, "accept", roles=COORDINATOR,
                                answers=answers, guard=guard, comment=comment)
                except GuardFailed:
                    done = fire(compiled, reviewed.to_state, "reject", roles=COORDINATOR,
                                answers=answers, guard=guard, comment=comment)
                assert done.comment == comment
                seen.append((done.to_state, done.comment))
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread below
            failures.append(exc)
        results[worker] = seen

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads_count)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert failures == []
    for worker, seen in results.items():
        expected_state = "accepted" if worker % 2 == 0 else "rejected"
        assert seen == [(expected_state, f"w{worker}-r{n}") for n in range(rounds)]


def test_deep_copy_of_definition_is_compiled_separately() -> None:
    workflow = load_workflow(base_workflow())
    clone = copy.deepcopy(workflow)
    assert clone == workflow
    assert compile_workflow(clone) is not compile_workflow(workflow)
