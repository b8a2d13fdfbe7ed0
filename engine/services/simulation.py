"""The editor's "what if" panel: sample answers in, everything the engine would decide out.

An administrator changing rules or guards wants to know the consequences before publishing:
with these answers, which steps and fields show, which are required or invalid (and why),
and which transitions a coordinator would be offered in each state of the workflow. The
answers run through the real engine — ``evaluate`` for the form, ``available_transitions``
with ``bind_guards`` for the workflow — on the *unsaved* draft, so what the panel says is what
publishing would do.

Guards read the typed answers a submission would store; with invalid sample answers the
submission could not exist, so the panel reads the valid ones and treats invalid as empty.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from engine.answers import convert
from engine.definitions import load_form
from engine.evaluation import Evaluation, compile_form, evaluate
from engine.exceptions import DefinitionError, NotFound
from engine.machine import ADMIN_ROLE, Guard
from engine.model import FormDefinition, WorkflowDefinition
from engine.problems import Problem, errors_only
from engine.services.definitions import published_form, published_workflow
from engine.text import localize
from engine.workflows import available_transitions, bind_guards, load_workflow

if TYPE_CHECKING:
    from engine.storage import Database


__all__ = [
    "FieldOutcome",
    "StateOutcome",
    "StepOutcome",
    "TransitionOption",
    "WhatIf",
    "simulate_form",
    "simulate_workflow",
    "typed_answers",
]


@dataclass(frozen=True, slots=True)
class FieldOutcome:
    id: str
    label: str
    type: str
    visible: bool
    required: bool
    invalid: bool
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class StepOutcome:
    id: str
    title: str
    visible: bool
    fields: tuple[FieldOutcome, ...]


@dataclass(frozen=True, slots=True)
class TransitionOption:
    id: str
    label: str
    to: str
    comment: str
    offered: bool
    reason: str | None = None
    """Why it is not offered: ``"role"`` (the chosen role may not) or ``"guard"``."""


@dataclass(frozen=True, slots=True)
class StateOutcome:
    id: str
    label: str
    final: bool
    initial: bool
    transitions: tuple[TransitionOption, ...]


@dataclass(frozen=True, slots=True)
class WhatIf:
    evaluation: Mapping[str, Any]
    """``Evaluation.as_json()``: exactly what ``formflow forms evaluate`` prints."""
    steps: tuple[StepOutcome, ...]
    workflow_id: str | None
    workflow_source: str | None
    """``"published"`` or ``"draft"``: which workflow the transitions come from."""
    states: tuple[StateOutcome, ...] = ()
    problems: tuple[Problem, ...] = field(default_factory=tuple)
    """Why part of the answer is missing (a workflow that is not published, a guard that does
    not fit the form)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "evaluation": dict(self.evaluation),
            "steps": [
                {"id": s.id, "title": s.title, "visible": s.visible,
                 "fields": [
                     {"id": f.id, "label": f.label, "type": f.type, "visible": f.visible,
                      "required": f.required, "invalid": f.invalid, "errors": list(f.errors)}
                     for f in s.fields
                 ]}
                for s in self.steps
            ],
            "workflow": {"id": self.workflow_id, "source": self.workflow_source},
            "states": [
                {"id": s.id, "label": s.label, "final": s.final, "initial": s.initial,
                 "transitions": [
                     {"id": t.id, "label": t.label, "to": t.to, "comment": t.comment,
                      "offered": t.offered, "reason": t.reason}
                     for t in s.transitions
                 ]}
                for s in self.states
            ],
            "problems": [p.as_json() for p in self.problems],
        }


def typed_answers(
    form: FormDefinition, evaluation: Evaluation, answers: Mapping[str, Any]
) -> dict[str, Any]:
    """The answers a guard reads: the stored ones when valid, else the valid visible ones."""
    if evaluation.answers is not None:
        return dict(evaluation.answers)
    visible = set(evaluation.visible_fields)
    typed: dict[str, Any] = {}
    for f in form.fields():
        if f.is_input and f.id in visible and f.id not in evaluation.invalid:
            typed[f.id] = convert(f, answers.get(f.id))[0]
    typed.update(evaluation.calculated)
    return typed


def _steps(form: FormDefinition, evaluation: Evaluation, language: str) -> tuple[StepOutcome, ...]:
    visible_fields = set(evaluation.visible_fields)
    visible_steps = set(evaluation.visible_steps)
    required = set(evaluation.required)
    default = form.default_language
    return tuple(
        StepOutcome(
            id=step.id,
            title=localize(step.title, language, default) or step.id,
            visible=step.id in visible_steps,
            fields=tuple(
                FieldOutcome(
                    id=f.id,
                    label=localize(f.label or f.content, language, default) or f.id,
                    type=f.type,
                    visible=f.id in visible_fields,
                    required=f.id in required,
                    invalid=f.id in evaluation.errors,
                    errors=tuple(evaluation.errors.get(f.id, ())),
                )
                for f in step.fields
            ),
        )
        for step in form.steps
    )


def _states(
    workflow: WorkflowDefinition, guard: Guard, answers: Mapping[str, Any], roles: Iterable[str],
    language: str,
) -> tuple[StateOutcome, ...]:
    role_set = frozenset(roles)
    default = next((key for key in workflow.title if key), language)
    outcomes = []
    for state in workflow.states:
        offered = {
            t.id for t in available_transitions(
                workflow, state.id, roles=role_set, answers=answers, guard=guard
            )
        }
        options = []
        for t in workflow.transitions:
            if state.id not in t.sources:
                continue
            reason = None
            if t.id not in offered:
                may = ADMIN_ROLE in role_set or not role_set.isdisjoint(t.roles)
                reason = "guard" if may else "role"
            options.append(TransitionOption(
                id=t.id, label=localize(t.label, language, default) or t.id, to=t.to,
                comment=t.comment, offered=t.id in offered, reason=reason,
            ))
        outcomes.append(StateOutcome(
            id=state.id, label=localize(state.label, language, default) or state.id,
            final=state.final, initial=state.id == workflow.initial,
            transitions=tuple(options),
        ))
    return tuple(outcomes)


def simulate_form(
    db: Database | None,
    form_data: Any,
    answers: Mapping[str, Any],
    *,
    language: str | None = None,
    roles: Iterable[str] = ("coordinator",),
    workflow_data: Any = None,
) -> WhatIf:
    """Evaluate a (draft) form on ``answers`` and list the transitions of its workflow.

    The workflow is ``workflow_data`` when given (e.g. its own editor draft), else the
    published one named by the form. Raises ``DefinitionError`` when the form itself cannot
    be loaded — the editor shows those problems already.
    """
    form = load_form(form_data)
    lang = language if language in form.languages else form.default_language
    evaluation = evaluate(compile_form(form), answers, lang)
    steps = _steps(form, evaluation, lang)
    problems: list[Problem] = []
    source = "draft" if workflow_data is not None else "published"
    workflow: WorkflowDefinition | None = None
    try:
        if workflow_data is not None:
            workflow = load_workflow(workflow_data)
        elif db is not None:
            workflow = published_workflow(db, form.workflow)[1]
    except NotFound:
        problems.append(Problem("/workflow", f"workflow {form.workflow!r} is not published"))
    except DefinitionError as exc:
        problems.extend(Problem("/workflow", f"workflow {form.workflow!r}: {p.format()}")
                        for p in exc.problems)
    states: tuple[StateOutcome, ...] = ()
    if workflow is not None:
        try:
            guard = bind_guards(workflow, form)
        except DefinitionError as exc:
            problems.extend(Problem("/workflow", f"workflow {workflow.id!r}: {p.format()}")
                            for p in errors_only(list(exc.problems)))
        else:
            typed = typed_answers(form, evaluation, answers)
            states = _states(workflow, guard, typed, roles, lang)
    return WhatIf(
        evaluation=evaluation.as_json(), steps=steps,
        workflow_id=workflow.id if workflow is not None else form.workflow,
        workflow_source=source if workflow is not None else None,
        states=states, problems=tuple(problems),
    )


def simulate_workflow(
    db: Database,
    workflow_data: Any,
    form_id: str,
    answers: Mapping[str, Any],
    *,
    language: str | None = None,
    roles: Iterable[str] = ("coordinator",),
) -> WhatIf:
    """A (draft) workflow's transitions for answers to the published form ``form_id``.

    ``NotFound`` when that form is not published; ``DefinitionError`` when the workflow
    cannot be loaded.
    """
    workflow = load_workflow(workflow_data)
    _record, form = published_form(db, form_id)
    return simulate_form(None, form.source, answers, language=language, roles=roles,
                         workflow_data=workflow.source)
