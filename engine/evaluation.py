"""Evaluating a form against answers: what is visible, required, valid, and what is stored.

The dependency order of fields and steps is computed once per definition (``compile_form``);
each evaluation then walks it once, evaluating every rule at most once, so its cost grows
linearly with fields + rule conditions. A hidden field's answer is empty for every condition
that reads it, which is what makes hiding cascade and keeps dropped values from leaking.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import compress
from typing import Any, NamedTuple

from engine.answers import (
    CONVERTERS,
    Check,
    Conversion,
    FieldError,
    limits_check,
    stored_empty,
)
from engine.conditions import Predicate, fields_read, predicate
from engine.messages import message
from engine.model import Answer, Field, FormDefinition, Rule, Step
from engine.problems import Problem
from engine.text import localize

__all__ = ["CompiledForm", "Evaluation", "compile_form", "evaluate", "find_cycle"]


Converter = Callable[[Field, Any], Conversion]


class _Node(NamedTuple):
    """One field or step in evaluation order (the linter reads these too)."""

    slot: int
    """Its place in an evaluation's visibility and answer lists."""
    within: int
    """The slot of its step (a field), or of the always-visible root (a step)."""
    shown_by: Predicate | None
    """Whether one of the rules that show it holds; ``None`` when no rule shows it."""
    hidden_by: Predicate | None
    """Whether one of the rules that hide it holds; ``None`` when no rule hides it."""
    convert: Converter | None
    """The input field's converter, looked up once here rather than per evaluation."""
    input: Field | None
    """The field when this node is an input field (not a step, not a paragraph)."""
    id: str
    step: str | None  # the step of a field; None for a step
    show: tuple[int, ...]
    """indices of the rules that show it"""
    hide: tuple[int, ...]
    """indices of the rules that hide it"""


_Step = tuple[int, int, Predicate | None, Predicate | None, Converter | None, Field | None, str]
"""A node as the walk unpacks it: (slot, within, shown_by, hidden_by, convert, input, id).

Plain tuples, not ``_Node``: CPython 3.11 unpacks only exact tuples without an iterator."""

_Check = tuple[int, str, Field, bool, Predicate | None, Check | None, Answer]
"""What validating one input field needs, looked up once per definition: (slot, id, field,
always required, required_by — whether a rule requiring it holds, or ``None`` when none may —,
its limits check (``answers.limits_check``) or ``None``, what storage keeps when it is empty)."""


@dataclass(frozen=True)
class CompiledForm:
    """A form with its evaluation order: every node after all the nodes its visibility reads.

    Evaluation keeps visibility and typed answers in lists, one slot per node: fields first in
    id order (``field_ids``), then the steps in document order (``step_ids``). Visibility has
    one more slot, the always-visible root that steps sit within; the answers list has one more
    slot per rule, where that rule's truth is kept once known.
    Rule predicates read answers by slot, resolved here once.
    """

    form: FormDefinition
    order: tuple[_Node, ...]
    walk: tuple[_Step, ...]
    """``order`` as the evaluation walks it"""
    fields: Mapping[str, Field]
    field_ids: tuple[str, ...]
    """every field id, sorted: the order of every list and map in an ``Evaluation``"""
    step_ids: tuple[str, ...]
    checks: tuple[_Check, ...]
    """per input field in id order"""
    answer_slots: int
    """the length of an evaluation's answer list"""


def _dependencies(steps: Sequence[Step], rules: Sequence[Rule]) -> dict[str, list[str]]:
    """node id → the node ids its visibility depends on (in a stable, document order).

    Targets and reads that name no node are skipped, so a partly broken definition can still
    be searched for cycles while its other problems are reported.
    """
    deps: dict[str, list[str]] = {}
    for step in steps:
        deps[step.id] = []
        for f in step.fields:
            deps[f.id] = [step.id]
    for rule in rules:
        reads = sorted(r for r in fields_read(rule.when) if r in deps)
        for target in (*rule.show, *rule.hide):
            if target in deps:
                deps[target].extend(r for r in reads if r not in deps[target])
    return deps


def _order(deps: Mapping[str, Sequence[str]]) -> tuple[list[str], list[str]]:
    """Kahn's algorithm: (ordered ids, ids left over because they sit on or behind a cycle)."""
    waiting = {node: len(set(before)) for node, before in deps.items()}
    dependants: dict[str, list[str]] = {node: [] for node in deps}
    for node, before in deps.items():
        for b in set(before):
            dependants[b].append(node)
    ready = [node for node in deps if waiting[node] == 0]
    ordered: list[str] = []
    while ready:
        node = ready.pop()
        ordered.append(node)
        for d in dependants[node]:
            waiting[d] -= 1
            if waiting[d] == 0:
                ready.append(d)
    return ordered, [node for node in deps if waiting[node] > 0]


def _cycle_through(deps: Mapping[str, Sequence[str]], left: Sequence[str]) -> list[str]:
    """One cycle among the nodes Kahn's algorithm could not order, as a closed path."""
    stuck = set(left)
    path: list[str] = []
    position: dict[str, int] = {}
    node = left[0]
    while node not in position:
        position[node] = len(path)
        path.append(node)
        node = next(b for b in deps[node] if b in stuck)
    cycle = path[position[node]:]
    # deps point from a node to what it reads; show the cycle in reading direction
    cycle.reverse()
    return [*cycle, cycle[0]]


def find_cycle(steps: Sequence[Step], rules: Sequence[Rule]) -> Problem | None:
    """The error naming a dependency cycle (``a → b → a``), if the rules make one."""
    deps = _dependencies(steps, rules)
    _, left = _order(deps)
    if not left:
        return None
    cycle = _cycle_through(deps, left)
    return Problem(
        "/rules",
        "rules depend on each other in a cycle: " + " → ".join(cycle)
        + " (a field's visibility cannot depend on itself)",
    )


def _first_true(rules: tuple[tuple[int, Predicate], ...]) -> Predicate:
    """Whether one of ``rules`` (answer-list slot, predicate) holds, trying them in order.

    A rule's truth is kept in its slot (``None`` until known), so a rule that several targets
    ask about is evaluated at most once per evaluation; keeping the memo inside this one loop
    rather than wrapping each rule saves a call per rule asked.
    """

    def first_true(values: list[Any]) -> bool:
        for slot, test in rules:
            known = values[slot]
            if known is None:
                known = values[slot] = test(values)
            if known:
                return True
        return False

    return first_true


def compile_form(form: FormDefinition) -> CompiledForm:
    deps = _dependencies(form.steps, form.rules)
    ordered, left = _order(deps)
    if left:
        raise ValueError(f"form {form.id!r} has a dependency cycle")  # load_form refuses these
    by_target: dict[str, tuple[list[int], list[int], list[int]]] = {n: ([], [], []) for n in deps}
    uses = [0] * len(form.rules)
    for index, rule in enumerate(form.rules):
        for effect, kind in (("show", 0), ("hide", 1), ("require", 2)):
            for target in getattr(rule, effect):
                by_target[target][kind].append(index)
                uses[index] += 1
    fields = form.field_map()
    field_ids = tuple(sorted(fields))
    step_ids = tuple(step.id for step in form.steps)
    slots = {node: slot for slot, node in enumerate((*field_ids, *step_ids))}
    root = truths = len(slots)  # rule i keeps its truth in answer slot truths + i
    tests = [predicate(rule.when, slots) for rule in form.rules]

    def either(rules: Sequence[int]) -> Predicate | None:
        if not rules:
            return None
        if len(rules) == 1 and uses[rules[0]] == 1:
            return tests[rules[0]]  # asked once: nothing to remember
        return _first_true(tuple((truths + index, tests[index]) for index in rules))

    def node(node_id: str) -> _Node:
        f = fields.get(node_id)
        show, hide, _ = by_target[node_id]
        return _Node(
            slot=slots[node_id],
            within=root if f is None else slots[f.step],
            shown_by=either(show),
            hidden_by=either(hide),
            convert=CONVERTERS[f.type] if f is not None and f.is_input else None,
            input=f if f is not None and f.is_input else None,
            id=node_id,
            step=None if f is None else f.step,
            show=tuple(show),
            hide=tuple(hide),
        )

    order = tuple(node(node_id) for node_id in ordered)
    return CompiledForm(
        form=form,
        order=order,
        walk=tuple(
            (n.slot, n.within, n.shown_by, n.hidden_by, n.convert, n.input, n.id) for n in order
        ),
        fields=fields,
        field_ids=field_ids,
        step_ids=step_ids,
        checks=tuple(
            (slots[f.id], f.id, f, f.required, either(by_target[f.id][2]), limits_check(f),
             stored_empty(f))
            for f in (fields[f_id] for f_id in field_ids) if f.is_input
        ),
        answer_slots=truths + len(form.rules),
    )


@dataclass(frozen=True)
class Evaluation:
    visible_fields: list[str]
    visible_steps: list[str]
    required: list[str]
    invalid: list[str]
    answers: dict[str, Answer] | None
    """Exactly the visible input fields, typed; ``None`` while any of them is invalid."""
    errors: dict[str, list[str]] = field(default_factory=dict)
    codes: dict[str, list[str]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "visible_fields": self.visible_fields,
            "visible_steps": self.visible_steps,
            "required": self.required,
            "invalid": self.invalid,
            "answers": self.answers,
            "errors": self.errors,
        }


def _words(f: Field, error: FieldError, language: str, default_language: str) -> str:
    if error.code == "pattern" and f.pattern_message:
        return localize(f.pattern_message, language, default_language)
    return message(error.code, language, error.params)


def evaluate(
    form: FormDefinition | CompiledForm,
    answers: Mapping[str, Any],
    language: str | None = None,
) -> Evaluation:
    """Visibility, requirement, validation and the stored answers for ``answers``.

    Keys naming no input field are ignored, and so is whatever was sent for a hidden field.
    Conditions see a visible answer converted to its field's type; one that cannot be
    converted counts as empty for them (it is reported as that field's error).
    """
    compiled = form if isinstance(form, CompiledForm) else compile_form(form)
    definition = compiled.form
    lang = language if language in definition.languages else definition.default_language
    # Hidden and unconvertible answers stay None (empty), and so do rule truths not yet known.
    values: list[Any] = [None] * compiled.answer_slots
    nodes = len(compiled.field_ids) + len(compiled.step_ids)
    visible = [False] * nodes + [True]  # the last slot is the root every step sits within
    conversion_errors: dict[int, FieldError] = {}
    get_answer = answers.get
    for slot, within, shown_by, hidden_by, convert, f, node_id in compiled.walk:
        # DEFINITIONS §2.1: on a visible step, shown by a rule if any show it, hidden by none.
        if (
            not visible[within]
            or (shown_by is not None and not shown_by(values))
            or (hidden_by is not None and hidden_by(values))
        ):
            continue
        visible[slot] = True
        if convert is not None:
            value, error = convert(f, get_answer(node_id))  # type: ignore[arg-type]
            values[slot] = value
            if error is not None:
                conversion_errors[slot] = error

    # Walking the fields in id order makes every result list come out sorted without sorting.
    required: list[str] = []
    errors: dict[str, list[FieldError]] = {}
    stored: dict[str, Answer] = {}
    for slot, f_id, f, always_required, required_by, limits, empty in compiled.checks:
        if not visible[slot]:
            continue
        value = values[slot]
        is_required = always_required or (required_by is not None and required_by(values))
        if is_required:
            required.append(f_id)
        if conversion_errors and slot in conversion_errors:
            errors[f_id] = [conversion_errors[slot]]
        elif not value and (  # answers.is_empty, spelled out on this hot path
            value is None or value is False or value == "" or isinstance(value, list)
        ):
            if is_required:
                errors[f_id] = [FieldError(_required_code(f))]
            stored[f_id] = empty
        else:
            if limits is not None:
                problems = limits(f, value)
                if problems:
                    errors[f_id] = problems
            stored[f_id] = value

    return Evaluation(
        visible_fields=list(compress(compiled.field_ids, visible)),
        visible_steps=list(compress(compiled.step_ids, visible[len(compiled.field_ids):])),
        required=required,
        invalid=list(errors),
        answers=None if errors else stored,
        errors={
            f_id: [_words(compiled.fields[f_id], e, lang, definition.default_language)
                   for e in found]
            for f_id, found in errors.items()
        },
        codes={f_id: [e.code for e in found] for f_id, found in errors.items()},
    )


def _required_code(f: Field) -> str:
    if f.type == "checkbox":
        return "must_tick"
    if f.type in ("select", "radio", "checkboxes"):
        return "choose_one"
    return "required"
