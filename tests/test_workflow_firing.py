"""Firing workflows: every refusal with its own error, guards in the real rule language, no
callable named from JSON, one compiled machine shared safely between threads.

The state machine is the real ``transitions`` one, the guards the real rule language of
``engine.conditions``; nothing is mocked.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from typing import Any

import pytest

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
from engine.model import Transition, WorkflowDefinition
from engine.workflows import (
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
from support.workflows import (
    COORDINATOR,
    base_workflow,
    guard_form,
    guarded_workflow,
    problems,
)

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
    # the role first: a caller who may fire nothing learns nothing of the state (issue 14)
    assert refusal(transition_id="nope", roles=["x"]) is RoleNotAllowed
    assert refusal(transition_id="accept", expected_state="x", roles=[]) is RoleNotAllowed
    assert refusal(transition_id="nope", expected_state="x") is UnknownTransition
    assert refusal(transition_id="accept", expected_state="x") is StaleState
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
                                  "secret_env": "FORMFLOW_WEBHOOK_SECRET"})
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
