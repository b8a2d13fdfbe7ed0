"""The rules of moving through a multi-step form, kept apart from Flask so they read plainly.

Answers here are *raw*: what the applicant typed, as the browser sends it (strings, ``True``
for a ticked box, lists for checkbox groups). They are kept that way in the draft so that a
half-typed date or a number with a typo comes back exactly as typed; the engine converts and
validates them (``engine.evaluation.evaluate``) whenever a decision is needed. Field
validation is never re-implemented here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from werkzeug.datastructures import MultiDict

from engine.evaluation import CompiledForm, Evaluation, evaluate
from engine.model import Field, FormDefinition, Step

__all__ = [
    "answers_with_defaults",
    "apply_step",
    "change_rows",
    "first_step_with_errors",
    "neighbour_step",
    "other_steps_answers",
    "progress",
    "read_step",
    "step_errors",
    "step_of",
]


def step_of(form: FormDefinition, step_id: str) -> Step | None:
    return next((s for s in form.steps if s.id == step_id), None)


def answers_with_defaults(form: FormDefinition, saved: Mapping[str, Any]) -> dict[str, Any]:
    """The saved answers over the definition's ``default`` values.

    A field the applicant emptied is saved as ``""`` (or ``False``/``[]``), so a default never
    comes back over a deliberate choice; defaults only fill fields never answered.
    """
    answers = {f.id: f.default for f in form.fields() if f.is_input and f.default is not None}
    answers.update(saved)
    return answers


def read_step(step: Step, formdata: MultiDict[str, str]) -> dict[str, Any]:
    """The raw answers a step page sent for its input fields.

    Every input field of the step gets a value, because a control that is absent from the
    POST *is* an answer: an unticked box, no box of a group, a field hidden (and therefore
    disabled) at the moment of sending. Single checkboxes become ``True``/``False``.
    """
    return _read_fields(step.fields, formdata, "")


def _read_fields(
    fields: Sequence[Field], formdata: MultiDict[str, str], prefix: str
) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for f in fields:
        if not f.is_input or f.is_calculated:  # a calculated value is never taken from a client
            continue
        name = prefix + f.id
        if f.type == "checkbox":
            answers[f.id] = name in formdata
        elif f.type == "checkboxes":
            answers[f.id] = [str(v) for v in formdata.getlist(name)]
        elif f.is_group:
            answers[f.id] = [_read_fields(f.fields, formdata, f"{f.id}-{row}-")
                             for row in range(row_count(f, formdata))]
        else:
            value = formdata.get(name, "")
            answers[f.id] = value if isinstance(value, str) else ""
    return answers


def row_count(group: Field, formdata: MultiDict[str, str]) -> int:
    """How many rows a step page sent for a repeating group (``<id>-rows``): at most one more
    than allowed, so that too many is refused with its message without reading a flood."""
    raw = formdata.get(f"{group.id}-rows", "")
    if not (isinstance(raw, str) and raw.isascii() and raw.isdigit()):
        return 0
    return min(int(raw[:6]) if len(raw) <= 6 else group.repeat_max + 1, group.repeat_max + 1)


def change_rows(answers: Mapping[str, Any], step: Step, action: str) -> dict[str, Any] | None:
    """The answers after an "add row" (``add_row:<group>``) or "remove row"
    (``remove_row:<group>:<index>``) button of a step page without JavaScript; ``None`` when
    ``action`` is neither (or names no group of the step, or no row)."""
    kind, _, rest = action.partition(":")
    if kind not in ("add_row", "remove_row"):
        return None
    group_id, _, index = rest.partition(":")
    group = next((f for f in step.fields if f.id == group_id and f.is_group), None)
    if group is None:
        return None
    rows = answers.get(group.id)
    rows = list(rows) if isinstance(rows, list) else []
    if kind == "add_row":
        if len(rows) >= group.repeat_max:
            return None
        rows.append({})
    elif index.isascii() and index.isdigit() and int(index) < len(rows):
        del rows[int(index)]
    else:
        return None
    return {**answers, group.id: rows}


def apply_step(
    compiled: CompiledForm,
    answers: Mapping[str, Any],
    step: Step,
    posted: Mapping[str, Any],
    language: str,
) -> tuple[dict[str, Any], Evaluation]:
    """The answers after a step page was sent, and their evaluation.

    What was sent for a field that is hidden under the new answers is dropped (DEFINITIONS
    §2.2) — e.g. the consent box disappears with the topic it was for. Answers of other steps
    are left untouched, even when now hidden: going back and forth never loses them, and the
    engine ignores hidden answers when it matters (review, submit).
    """
    merged = dict(answers)
    merged.update(posted)
    evaluation = evaluate(compiled, merged, language)
    visible = set(evaluation.visible_fields)
    for f in step.fields:
        if f.is_input and f.id not in visible:
            merged.pop(f.id, None)
    return merged, evaluation


def step_errors(evaluation: Evaluation, step: Step) -> dict[str, list[str]]:
    """The engine's messages for the visible fields of ``step``, in the step's field order."""
    return {f.id: evaluation.errors[f.id] for f in step.fields if f.id in evaluation.errors}


def first_step_with_errors(form: FormDefinition, errors: Mapping[str, Any]) -> Step | None:
    for step in form.steps:
        if any(f.id in errors for f in step.fields):
            return step
    return None


def neighbour_step(
    form: FormDefinition, visible_steps: Sequence[str], current: str, direction: int
) -> str | None:
    """The next (``+1``) or previous (``-1``) *visible* step from ``current``, else None.

    Walks the form's step order rather than ``visible_steps`` so that it also works when the
    current step itself has just become hidden.
    """
    order = [s.id for s in form.steps]
    if current not in order:
        return None
    visible = set(visible_steps)
    index = order.index(current) + direction
    while 0 <= index < len(order):
        if order[index] in visible:
            return order[index]
        index += direction
    return None


def progress(visible_steps: Sequence[str], current: str) -> tuple[int, int]:
    """("Schritt 2 von 3") position and count of ``current`` among the visible steps only."""
    total = len(visible_steps)
    position = visible_steps.index(current) + 1 if current in visible_steps else 0
    return position, total


def other_steps_answers(
    form: FormDefinition, answers: Mapping[str, Any], step: Step
) -> dict[str, Any]:
    """Answers of every step but ``step``: what the browser needs so that rules reading an
    earlier (or later) step work live on this page."""
    own = {f.id for f in step.fields}
    inputs = {f.id for f in form.fields() if f.is_input}
    return {k: v for k, v in answers.items() if k in inputs and k not in own}
