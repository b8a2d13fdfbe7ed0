"""The rule language: conditions and their truth, shared by form rules and workflow guards.

Truth is one recursive compilation of a condition into a function of the answers
(``predicate``; ``holds`` for a one-off check) over an operator table; what a true condition
*does* (show, hide, require, allow a transition) is decided elsewhere. Each operator names the
field types it fits and how its value is converted, so a misfit or an unknown operator is
reported when the definition is loaded, never discovered while an applicant types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import ge, gt, le, lt
from typing import Any, Literal

from engine.answers import convert, is_empty
from engine.model import (
    CHOICE_TYPES,
    INPUT_TYPES,
    TEXT_TYPES,
    AllOf,
    AnyOf,
    Condition,
    Field,
    FieldCondition,
    Not,
)
from engine.problems import Problem, pointer_join

__all__ = [
    "MAX_CONDITION_DEPTH", "OPERATORS", "Bound", "Leaf", "Operator", "Predicate", "Test",
    "compile_condition", "fields_read", "holds", "predicate", "single_test",
]

ValueKind = Literal["none", "optional", "required", "list"]


Test = Callable[[Any], bool]
"""A condition's operator and value bound together: a typed answer in, truth out."""


def _equal_to(value: Any) -> Test:
    if is_empty(value):
        return is_empty
    if isinstance(value, list):
        wanted = set(value)
        return lambda answer: isinstance(answer, list) and set(answer) == wanted
    if isinstance(value, bool):
        return lambda answer: answer is value
    if isinstance(value, str):  # only an equal text equals a text: no None or bool can
        return lambda answer: answer == value
    return lambda answer: answer is not None and not isinstance(answer, bool) and answer == value


def _contains(value: str) -> Test:
    folded = value.casefold()

    def test(answer: Any) -> bool:
        if isinstance(answer, list):
            return value in answer
        return isinstance(answer, str) and folded in answer.casefold()

    return test


def _starts_with(value: str) -> Test:
    folded = value.casefold()
    return lambda answer: isinstance(answer, str) and answer.casefold().startswith(folded)


def _ends_with(value: str) -> Test:
    folded = value.casefold()
    return lambda answer: isinstance(answer, str) and answer.casefold().endswith(folded)


def _one_of(value: list[Any]) -> Test:
    def test(answer: Any) -> bool:
        if isinstance(answer, list):
            return any(item in value for item in answer)
        return not is_empty(answer) and answer in value

    return test


def _ordered(compare: Callable[[Any, Any], bool]) -> Callable[[Any], Test]:
    """An ordering operator: false for an empty answer (DEFINITIONS §2), else ``compare``."""

    def bind(value: Any) -> Test:
        return lambda answer: (
            answer is not None and answer is not True and answer is not False
            and compare(answer, value)
        )

    return bind


def _emptiness(value: None) -> Test:
    return is_empty


@dataclass(frozen=True, slots=True)
class Operator:
    types: frozenset[str]
    value: ValueKind
    bind: Callable[[Any], Test]
    """The test of a typed answer for a condition's converted value (operators that take no
    value get ``None``). Built once per condition, so work that depends only on the value
    (case folding, choosing the comparison) is not repeated per evaluation."""
    negated: bool = False
    """The operator is true exactly when its test is false (``not_equal_to``, ``is_not_empty``).
    Stating it here rather than wrapping the test lets a predicate fold it, and any ``not``
    around the condition, into one call."""


_TEXTISH = TEXT_TYPES | CHOICE_TYPES
_ORDERED = frozenset({"number", "date", "calculated"})
_VALUED = INPUT_TYPES | {"calculated"}

OPERATORS: Mapping[str, Operator] = {
    "equal_to": Operator(_VALUED, "optional", _equal_to),
    "not_equal_to": Operator(_VALUED, "optional", _equal_to, negated=True),
    "contains": Operator(TEXT_TYPES | {"checkboxes"}, "required", _contains),
    "not_contains": Operator(TEXT_TYPES | {"checkboxes"}, "required", _contains, negated=True),
    "starts_with": Operator(TEXT_TYPES, "required", _starts_with),
    "ends_with": Operator(TEXT_TYPES, "required", _ends_with),
    "greater_than": Operator(_ORDERED, "required", _ordered(gt)),
    "greater_or_equal": Operator(_ORDERED, "required", _ordered(ge)),
    "less_than": Operator(_ORDERED, "required", _ordered(lt)),
    "less_or_equal": Operator(_ORDERED, "required", _ordered(le)),
    "one_of": Operator(_TEXTISH | _ORDERED | {"checkboxes"}, "list", _one_of),
    "none_of": Operator(_TEXTISH | _ORDERED | {"checkboxes"}, "list", _one_of, negated=True),
    "is_empty": Operator(_VALUED | {"group", "file"}, "none", _emptiness),
    "is_not_empty": Operator(_VALUED | {"group", "file"}, "none", _emptiness, negated=True),
}


Predicate = Callable[[list[Any]], bool]
"""A condition prepared for repeated evaluation: typed answers by field position in, truth out."""


Leaf = tuple[int, Test, bool]
"""A field condition prepared for evaluation: ``(position, test, inverted)``; it holds when
``test(values[position])`` is true, or false if ``inverted``."""

Bound = dict[tuple[str, str], Test]
"""Operator tests already bound, by operator and the ``repr`` of the value (which tells
``True``, ``1`` and ``1.0`` apart): conditions that compare alike share one test."""


def predicate(
    condition: Condition, positions: Mapping[str, int], negated: bool = False,
    bound: Bound | None = None,
) -> Predicate:
    """``condition`` (or its negation) as a function of the answers, built once and called per
    evaluation.

    The answers come as a list; ``positions`` says where each field read sits in it. Resolving
    the operator, the condition's shape and every field's position here, instead of on every
    call, is what keeps a form's evaluation cheap when it has thousands of rules (see
    docs/performance.md). Negations are pushed down to the operators (De Morgan for groups), so
    a ``not`` costs no call of its own, and a group applies its field conditions' tests itself.
    Pass the same ``bound`` to share equal operator tests between conditions.
    """
    leaf = single_test(condition, positions, negated, bound)
    if leaf is not None:
        position, test, inverted = leaf
        if inverted:
            return lambda values: not test(values[position])
        return lambda values: test(values[position])
    while isinstance(condition, Not):
        condition, negated = condition.item, not negated
    assert isinstance(condition, AllOf | AnyOf)
    leaves: list[Leaf] = []
    groups: list[Predicate] = []
    for item in condition.items:
        item_leaf = single_test(item, positions, negated, bound)
        if item_leaf is not None:
            leaves.append(item_leaf)
        else:
            groups.append(predicate(item, positions, negated, bound))
    # Conditions have no effects, so testing the field conditions before the nested groups
    # gives the same truth, usually sooner.
    if isinstance(condition, AnyOf) is not negated:
        return _any_of(tuple(leaves), tuple(groups))
    return _all_of(tuple(leaves), tuple(groups))


def single_test(
    condition: Condition, positions: Mapping[str, int], negated: bool = False,
    bound: Bound | None = None,
) -> Leaf | None:
    """``condition`` (or its negation) as a ``Leaf`` when it is one field condition (under any
    number of ``not``); ``None`` for groups. An evaluation can then apply the operator's test
    itself, without the call of a ``predicate``."""
    while isinstance(condition, Not):
        condition, negated = condition.item, not negated
    if not isinstance(condition, FieldCondition):
        return None
    op = OPERATORS[condition.op]
    if bound is None:
        test = op.bind(condition.value)
    else:
        key = (condition.op, repr(condition.value))
        if key not in bound:
            bound[key] = op.bind(condition.value)
        test = bound[key]
    return positions[condition.field], test, op.negated is not negated


def _all_of(leaves: tuple[Leaf, ...], groups: tuple[Predicate, ...]) -> Predicate:
    """A predicate true when every one of ``leaves`` and ``groups`` is (evaluated in order, up
    to the first false one)."""

    def all_hold(values: list[Any]) -> bool:
        for position, test, inverted in leaves:  # plain loops: cheaper than all() per call
            if (not test(values[position])) is not inverted:
                return False
        for group in groups:
            if not group(values):
                return False
        return True

    return all_hold


def _any_of(leaves: tuple[Leaf, ...], groups: tuple[Predicate, ...]) -> Predicate:
    """A predicate true when one of ``leaves`` and ``groups`` is (evaluated in order, up to the
    first true one)."""

    def any_holds(values: list[Any]) -> bool:
        for position, test, inverted in leaves:
            if (not test(values[position])) is inverted:
                return True
        for group in groups:
            if group(values):
                return True
        return False

    return any_holds


def holds(condition: Condition, values: Mapping[str, Any]) -> bool:
    """Whether ``condition`` is true for ``values`` (field id → typed answer; absent = empty)."""
    read = tuple(fields_read(condition))
    positions = {field_id: position for position, field_id in enumerate(read)}
    return predicate(condition, positions)([values.get(field_id) for field_id in read])


def fields_read(condition: Condition) -> set[str]:
    """Every field id the condition reads, at any depth."""
    if isinstance(condition, FieldCondition):
        return {condition.field}
    if isinstance(condition, AllOf | AnyOf):
        return set().union(*(fields_read(item) for item in condition.items))
    return fields_read(condition.item)


def _scalar_for(f: Field) -> Field:
    """The field seen as one value: a checkboxes field's single option, for contains/one_of."""
    if f.type == "checkboxes":
        return Field(id=f.id, type="select", step=f.step, options=f.options)
    if f.type == "calculated":  # its value is a number, compared as one
        return Field(id=f.id, type="number", step=f.step)
    return f


def _convert_value(
    f: Field, op: str, kind: ValueKind, raw: Any, present: bool, pointer: str
) -> tuple[Any, list[Problem]]:
    where = pointer_join(pointer, "value")
    if kind == "none":
        if present and raw is not None:
            return None, [Problem(where, f"operator '{op}' takes no value")]
        return None, []
    if kind == "list":
        if not isinstance(raw, list):
            return None, [Problem(where, f"operator '{op}' needs a list of values")]
        items: list[Any] = []
        problems: list[Problem] = []
        for index, item in enumerate(raw):
            value, item_problems = _convert_one(_scalar_for(f), item, pointer_join(where, index))
            problems += item_problems
            items.append(value)
        return items, problems
    blank = isinstance(raw, str) and raw.strip() == ""
    if kind == "required" and (not present or raw is None or blank or raw == []):
        return None, [Problem(where, f"operator '{op}' needs a value")]
    if op in ("contains", "not_contains") and f.type == "checkboxes":
        return _convert_one(_scalar_for(f), raw, where)
    if op in ("contains", "not_contains", "starts_with", "ends_with"):
        if not isinstance(raw, str):
            return None, [Problem(where, f"operator '{op}' needs a text value")]
        return raw, []
    if f.type == "checkboxes" and isinstance(raw, str) and raw.strip() != "":
        raw = [raw]  # one option stands for the set of it; "" stays the empty value
    if f.type == "checkbox" and not isinstance(raw, bool) and raw is not None:
        message = f"field '{f.id}' is a checkbox: compare it with true or false"
        return None, [Problem(where, message)]
    return _convert_one(_scalar_for(f) if f.type == "calculated" else f, raw, where)


def _convert_one(f: Field, raw: Any, where: str) -> tuple[Any, list[Problem]]:
    value, error = convert(f, raw)
    if error is None:
        return value, []
    if error.code == "not_an_option":
        options = ", ".join(repr(v) for v in f.option_values())
        return None, [Problem(where, f"{raw!r} is not an option of field '{f.id}' ({options})")]
    message = f"{raw!r} cannot be compared with field '{f.id}' of type {f.type}"
    return None, [Problem(where, message)]


MAX_CONDITION_DEPTH = 32
"""How deeply ``all``/``any``/``not`` may nest: far beyond any real rule, and bounded so that
compiling and evaluating a condition (both recursive) cannot overflow."""


def compile_condition(
    raw: Any, fields: Mapping[str, Field], pointer: str, depth: int = 0
) -> tuple[Condition | None, list[Problem]]:
    """A checked, typed condition from its JSON, or every problem found in it."""
    if not isinstance(raw, dict):
        return None, [Problem(pointer, "a condition must be an object")]
    groups = [key for key in ("all", "any", "not") if key in raw]
    if groups and "field" not in raw:
        key = groups[0]
        if len(groups) > 1 or len(raw) > 1:
            return None, [Problem(pointer, "a condition has exactly one of all, any, not")]
        if depth >= MAX_CONDITION_DEPTH:
            return None, [Problem(pointer, f"conditions may nest at most {MAX_CONDITION_DEPTH} "
                                           "levels deep")]
        if key == "not":
            inner, problems = compile_condition(
                raw["not"], fields, pointer_join(pointer, "not"), depth + 1)
            return (Not(inner) if inner is not None else None), problems
        if not isinstance(raw[key], list):
            return None, [Problem(pointer_join(pointer, key), f"'{key}' needs a list")]
        items: list[Condition] = []
        problems = []
        for index, item_raw in enumerate(raw[key]):
            item, item_problems = compile_condition(
                item_raw, fields, pointer_join(pointer, key, index), depth + 1
            )
            problems += item_problems
            if item is not None:
                items.append(item)
        if problems:
            return None, problems
        return (AllOf(tuple(items)) if key == "all" else AnyOf(tuple(items))), []
    return _compile_field_condition(raw, fields, pointer)


def _compile_field_condition(
    raw: dict[str, Any], fields: Mapping[str, Field], pointer: str
) -> tuple[Condition | None, list[Problem]]:
    field_id, op = raw.get("field"), raw.get("op")
    if not isinstance(field_id, str):
        return None, [Problem(pointer, "a condition needs 'field' and 'op' (or all/any/not)")]
    f = fields.get(field_id)
    if f is None:
        return None, [Problem(pointer_join(pointer, "field"), f"unknown field '{field_id}'")]
    if f.type == "paragraph":
        message = f"'{field_id}' is a paragraph: it has no answer"
        return None, [Problem(pointer_join(pointer, "field"), message)]
    if not isinstance(op, str) or op not in OPERATORS:
        known = ", ".join(OPERATORS)
        message = f"unknown operator {op!r}; use one of {known}"
        return None, [Problem(pointer_join(pointer, "op"), message)]
    operator = OPERATORS[op]
    if f.type not in operator.types:
        fits = ", ".join(sorted(operator.types))
        return None, [
            Problem(
                pointer_join(pointer, "op"),
                f"operator '{op}' does not fit field '{field_id}' of type {f.type} "
                f"(it fits: {fits})",
            )
        ]
    value, problems = _convert_value(
        f, op, operator.value, raw.get("value"), "value" in raw, pointer
    )
    if problems:
        return None, problems
    return FieldCondition(field_id, op, value), []
