"""Evaluating a form against answers: what is visible, required, valid, and what is stored.

The dependency order of fields and steps is computed once per definition (``compile_form``);
each evaluation then walks it once, evaluating every rule at most once, so its cost grows
linearly with fields + rule conditions. A hidden field's answer is empty for every condition
that reads it, which is what makes hiding cascade and keeps dropped values from leaking.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import compress
from typing import Any, NamedTuple

from engine.answers import (
    Check,
    Converter,
    FieldError,
    converter,
    is_empty,
    limits_check,
)
from engine.conditions import Bound, Predicate, Test, fields_read, predicate, single_test
from engine.expressions import Computation, Expression, Name, Reader, compute, names_read, output
from engine.messages import message
from engine.model import Answer, Field, FormDefinition, Rule, Step
from engine.problems import Problem
from engine.text import localize

__all__ = [
    "CompiledForm", "Evaluation", "compile_form", "evaluate", "find_cycle", "row_evaluations",
    "row_form",
]


class _Node(NamedTuple):
    """One field or step in evaluation order, with the rules that show and hide it (the linter
    reads these)."""

    id: str
    step: str | None  # the step of a field; None for a step
    show: tuple[int, ...]
    """indices of the rules that show it"""
    hide: tuple[int, ...]
    """indices of the rules that hide it"""


_Step = tuple[
    int, int, int | None, Test, bool, Predicate | None, Predicate | None, Converter | None, str,
    str | None, Check | None, Computation | None,
]
"""One node as the walk unpacks it (a plain tuple: CPython 3.11 unpacks only exact tuples
without an iterator):

- ``slot``: its place in the visibility and answer lists;
- ``within``: the slot of its step (a field) or of the always-visible root (a step);
- ``reads``, ``test``, ``inverted``: its one show rule when that is a single field condition
  (``conditions.single_test``), applied in the walk without a predicate call; ``reads`` is
  ``None`` otherwise;
- ``shown_by``: whether one of its other show rules holds (``None`` when none);
- ``hidden_by``: whether one of the rules that hide it holds (``None`` when none);
- ``convert``: an input field's converter with its options bound (``None`` for steps and
  paragraphs);
- ``id``: the node's id, to look its answer up;
- ``required``: the error code of a missing answer when the field is always required, else
  ``None``;
- ``limits``: its limits check with its limits bound (``answers.limits_check``), or ``None``;
- ``compute``: a calculated field's expression over the answer list (``None`` otherwise).
"""

_Deferred = tuple[int, Predicate, str]
"""A field that rules may require (and is not always required): (slot, required_by — whether
one of those rules holds —, the error code of a missing answer). Decided after the walk,
because a rule may read fields that come later in it."""


@dataclass(frozen=True)
class CompiledForm:
    """A form with its evaluation order: every node after all the nodes its visibility reads.

    Evaluation keeps visibility and typed answers in lists, one slot per node: fields first in
    id order (``field_ids``), then the steps in document order (``step_ids``). Visibility has
    one more slot, the always-visible root that steps sit within; the answers list has one more
    slot per rule, where that rule's truth is kept once known.
    Rule predicates read answers by slot, resolved here once.

    Large forms are memory-bound (docs/performance.md): everything the walk needs for a node is
    in one tuple, equal converters, checks and operator tests are shared between fields, and
    the ids the walk and the results use are copies made one after another in the order they
    are read, so a walk reads memory front to back.
    """

    form: FormDefinition
    order: tuple[_Node, ...]
    walk: tuple[_Step, ...]
    """``order`` as the evaluation walks it"""
    fields: Mapping[str, Field]
    field_ids: tuple[str, ...]
    """every field id, sorted: the order of every list and map in an ``Evaluation``"""
    step_ids: tuple[str, ...]
    paragraph_ids: tuple[str, ...]
    """fields without an answer: visible, but never stored"""
    deferred: tuple[_Deferred, ...]
    calculated: tuple[tuple[str, int], ...]
    """(id, slot) of every calculated field"""
    rows: Mapping[str, CompiledForm]
    """each repeating group's row form, compiled"""
    bounds: tuple[tuple[int, int, bool, str, str], ...]
    """(slot, slot of the bounding field, whether it is a minimum, error code, parameter) of
    every ``min``/``max`` that names another field: checked after the walk, when every answer
    is known"""
    answer_slots: int
    """the length of an evaluation's answer list"""


def _copies(ids: Iterable[str]) -> tuple[str, ...]:
    """New string objects equal to ``ids``, made one after another so that they sit together in
    memory in the order an evaluation reads them (the definition's own id strings are spread
    over the heap among everything loading it made)."""
    return tuple(i.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")
                 for i in ids)


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
    for step in steps:
        for f in step.fields:
            if f.formula is not None:  # a calculation comes after every field it reads
                deps[f.id].extend(dict.fromkeys(
                    n.group or n.field for n in names_read(f.formula)
                    if (n.group or n.field) in deps))
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
    field_ids = sorted(fields)
    steps = {step.id: len(fields) + index for index, step in enumerate(form.steps)}
    # Slot numbers are made in walk order (bisect returns a new int), so that the walk, which
    # reads each node's slot and the slots its rules read, finds them side by side in memory.
    slots = {node: steps[node] if node in steps else bisect_left(field_ids, node)
             for node in ordered}
    root = truths = len(slots)  # rule i keeps its truth in answer slot truths + i
    # Built on first use, in walk order, so that what one node's evaluation reads was made
    # together; targets asking about the same rules share one predicate.
    tests: dict[int, Predicate] = {}
    asked: dict[tuple[int, ...], Predicate] = {}
    bound: Bound = {}

    def test(index: int) -> Predicate:
        if index not in tests:
            tests[index] = predicate(form.rules[index].when, slots, bound=bound)
        return tests[index]

    def either(rules: Sequence[int]) -> Predicate | None:
        if not rules:
            return None
        if len(rules) == 1 and uses[rules[0]] == 1:
            return test(rules[0])  # asked once: nothing to remember
        key = tuple(rules)
        if key not in asked:
            asked[key] = _first_true(tuple((truths + index, test(index)) for index in rules))
        return asked[key]

    def step(node_id: str, id_copy: str) -> _Step:
        f = fields.get(node_id)
        show, hide, _ = by_target[node_id]
        single = (single_test(form.rules[show[0]].when, slots, bound=bound) if len(show) == 1
                  else None)
        reads, read_test, inverted = (None, is_empty, False) if single is None else single
        is_input = f is not None and f.is_input and not f.is_calculated
        return (
            slots[node_id],
            root if f is None else slots[f.step],
            reads, read_test, inverted,
            None if single is not None else either(show),
            either(hide),
            (_rows(f, rows[f.id]) if f.is_group else converter(f)) if f is not None and is_input
            else None,
            id_copy,
            _required_code(f) if f is not None and is_input and f.required else None,
            limits_check(f) if f is not None and is_input else None,
            None if f is None or f.formula is None else _computation(f.formula, slots),
        )

    rows = {f.id: compile_form(row_form(form, f)) for f in fields.values() if f.is_group}
    walk = tuple(step(*ids) for ids in zip(ordered, _copies(ordered), strict=True))
    inputs = [fields[n] for n in ordered if n in fields and fields[n].is_input]  # walk order
    return CompiledForm(
        form=form,
        order=tuple(_Node(node_id, fields[node_id].step if node_id in fields else None,
                          tuple(by_target[node_id][0]), tuple(by_target[node_id][1]))
                    for node_id in ordered),
        walk=walk,
        fields=fields,
        field_ids=_copies(field_ids),
        step_ids=tuple(steps),
        paragraph_ids=tuple(f_id for f_id in field_ids if not fields[f_id].is_input),
        deferred=tuple(
            (slots[f.id], required_by, _required_code(f))
            for f in inputs
            if not f.required and (required_by := either(by_target[f.id][2])) is not None
        ),
        calculated=tuple((f_id, slots[f_id]) for f_id in field_ids
                         if fields[f_id].is_calculated),
        rows=rows,
        bounds=tuple(
            (slots[f.id], slots[other], is_min,
             ("date_" if f.type == "date" else "") + ("min" if is_min else "max"),
             "min" if is_min else "max")
            for f in (fields[f_id] for f_id in field_ids)
            for other, is_min in ((f.min_field, True), (f.max_field, False))
            if other is not None
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
    calculated: dict[str, Answer] = field(default_factory=dict)
    """The value of every visible calculated field, known even while other answers are invalid
    (pages show it live)."""
    problems: dict[str, list[FieldError]] = field(default_factory=dict)
    """``errors`` as codes with their parameters (a repeating group's cells, one each)."""

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
    if error.code == "in_row":  # a repeating group's cell: the row and the field named
        cell: Field = error.params["field"]
        return message("in_row", language, {
            "row": error.params["row"],
            "field": localize(cell.label, language, default_language) or cell.id,
            "message": _words(cell, error.params["error"], language, default_language),
        })
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
    field_ids = compiled.field_ids
    nodes = len(field_ids) + len(compiled.step_ids)
    visible = [False] * nodes + [True]  # the last slot is the root every step sits within
    required = [False] * len(field_ids)
    errors: dict[int, list[FieldError]] = {}
    get_answer = answers.get
    # One pass in dependency order does everything a field needs but rules that require it.
    for (slot, within, reads, test, inverted, shown_by, hidden_by, convert, node_id, code,
         limits, calculate) in compiled.walk:
        # DEFINITIONS §2.1: on a visible step, shown by a rule if any show it, hidden by none.
        if (
            not visible[within]
            or (reads is not None and (not test(values[reads])) is not inverted)
            or (shown_by is not None and not shown_by(values))
            or (hidden_by is not None and hidden_by(values))
        ):
            continue
        visible[slot] = True
        if convert is None:
            if calculate is not None:
                values[slot] = output(calculate(values))
            continue
        value, error = convert(get_answer(node_id))
        values[slot] = value
        if code is not None:
            required[slot] = True
        if error is not None:
            errors[slot] = [error]
        elif not value and (  # answers.is_empty, spelled out on this hot path
            value is None or value is False or value == "" or isinstance(value, list)
        ):
            if code is not None:
                errors[slot] = [FieldError(code)]
        elif limits is not None:
            problems = limits(value)
            if problems:
                errors[slot] = problems

    for slot, other, is_min, code, name in compiled.bounds:  # min/max another field's answer
        value, bound = values[slot], values[other]
        if (visible[slot] and slot not in errors and value is not None and bound is not None
                and (value < bound if is_min else value > bound)):
            errors[slot] = [FieldError(code, {name: bound})]

    for slot, required_by, code in compiled.deferred:
        if visible[slot] and required_by(values):
            required[slot] = True
            if slot not in errors and is_empty(values[slot]):
                errors[slot] = [FieldError(code)]

    stored: dict[str, Answer] | None = None
    if not errors:
        # A visible input field's typed answer is what storage keeps: empty ones are already
        # None, False or [] as stored_empty says.
        stored = dict(zip(compress(field_ids, visible), compress(values, visible), strict=False))
        for paragraph in compiled.paragraph_ids:
            stored.pop(paragraph, None)
    found = {field_ids[slot]: _flat(errors[slot]) for slot in sorted(errors)}  # in id order
    invalid = list(found)
    return Evaluation(
        visible_fields=list(compress(field_ids, visible)),
        visible_steps=list(compress(compiled.step_ids, visible[len(field_ids):])),
        required=list(compress(field_ids, required)),
        invalid=invalid,
        answers=stored,
        errors={
            f_id: [_words(compiled.fields[f_id], e, lang, definition.default_language)
                   for e in found[f_id]]
            for f_id in invalid
        },
        codes={f_id: [e.code for e in found[f_id]] for f_id in invalid},
        calculated={f_id: values[slot] for f_id, slot in compiled.calculated if visible[slot]},
        problems=found,
    )


def _flat(errors: list[FieldError]) -> list[FieldError]:
    """A repeating group's one error standing for its cells' errors, spread out."""
    if len(errors) == 1 and errors[0].code == "rows":
        spread: list[FieldError] = errors[0].params["errors"]
        return spread
    return errors


def _computation(formula: Expression, slots: Mapping[str, int]) -> Computation:
    """A calculation reading the answer list by slot (a hidden field's slot holds ``None``)."""

    def read(name: Name) -> Reader:
        if name.group is not None:  # a field of every row of a repeating group
            rows, member = slots[name.group], name.field
            return lambda values: [row.get(member) for row in values[rows] or ()]
        slot = slots[name.field]
        return lambda values: values[slot]

    return compute(formula, read)


def row_form(form: FormDefinition, group: Field) -> FormDefinition:
    """A repeating group's row as a form of its own: one step of the group's fields and the
    rules that read them. Every row is evaluated as this form, on its own answers."""
    cells = tuple(replace(f, step=group.id) for f in group.fields)
    return FormDefinition(
        id=group.id, title=group.label, languages=form.languages,
        steps=(Step(group.id, group.label, cells),), rules=group.row_rules,
        source={},
    )


def _rows(group: Field, compiled: CompiledForm) -> Converter:
    """The conversion of a repeating group's answer: a list of rows (objects), each evaluated
    as ``row_form`` (``compiled``); the typed answer is the list of the rows' typed answers."""
    inputs = {f.id: f for f in group.fields if f.is_input and not f.is_calculated}

    def convert_rows(raw: Any) -> tuple[Answer, FieldError | None]:
        if raw is None or raw == "" or raw == []:
            rows: list[Any] = []
        elif isinstance(raw, list) and all(isinstance(row, dict) for row in raw):
            rows = raw
        else:
            return [], FieldError("not_rows")
        if len(rows) > group.repeat_max:  # checked first: no work for a flood of rows
            return [], FieldError("max_rows", {"max": group.repeat_max})
        typed: list[dict[str, Any]] = []
        cells: list[FieldError] = []
        for number, row in enumerate(rows, start=1):
            result = evaluate(compiled, row)
            if result.answers is not None:
                typed.append(result.answers)
                continue
            for cell in group.fields:  # in the row's order
                cells += [FieldError("in_row", {"row": number, "field": cell, "error": problem})
                          for problem in result.problems.get(cell.id, ())]
            typed.append({
                cell_id: (result.calculated[cell_id] if cell_id in result.calculated
                          else None if cell_id in result.problems
                          else converter(inputs[cell_id])(row.get(cell_id))[0])
                for cell_id in result.visible_fields if compiled.fields[cell_id].is_input
            })
        if len(rows) < group.repeat_min:
            cells.append(FieldError("min_rows", {"min": group.repeat_min}))
        if cells:
            return typed, FieldError("rows", {"errors": cells})
        return typed, None

    return convert_rows


def row_evaluations(
    compiled: CompiledForm, group_id: str, rows: Sequence[Mapping[str, Any]], language: str
) -> list[Evaluation]:
    """Each row of a repeating group evaluated on its own, for pages that show them."""
    return [evaluate(compiled.rows[group_id], row, language) for row in rows]


def _required_code(f: Field) -> str:
    if f.type == "checkbox":
        return "must_tick"
    if f.type == "file":
        return "file_required"
    if f.type in ("select", "radio", "checkboxes"):
        return "choose_one"
    return "required"
