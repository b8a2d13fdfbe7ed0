"""Calculated values: the expression language (parsing, checking, hostile input) and its use by
rules and workflow guards. The shared semantics are pinned by tests/rule-vectors.json; this
file covers what the vectors cannot say."""

from __future__ import annotations

from typing import Any

import pytest

from engine.definitions import check_form, load_form
from engine.evaluation import evaluate
from engine.exceptions import GuardFailed
from engine.expressions import (
    MAX_EXPRESSION_LENGTH,
    Call,
    ExpressionError,
    Name,
    Number,
    Operation,
    parse_expression,
    round_half_away,
)
from engine.workflows import bind_guards, check_guards_against_form, fire, load_workflow
from support.workflows import COORDINATOR, guarded_workflow


def _form(expression: str, *extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "calc", "title": "Calc", "languages": ["de", "en"],
        "steps": [{"id": "s", "title": "S", "fields": [
            {"id": "net", "type": "number", "label": "Netto"},
            {"id": "extra", "type": "number", "label": "Extra"},
            {"id": "total", "type": "calculated", "label": "Gesamt", "expression": expression},
            *extra,
        ]}],
    }


def test_expressions_become_trees_with_the_usual_precedence() -> None:
    tree = parse_expression("net + extra * 2")
    assert tree == Operation("+", Name("net"), Operation("*", Name("extra"), Number(2.0)))
    assert parse_expression(" (net + extra)*2 ") == Operation(
        "*", Operation("+", Name("net"), Name("extra")), Number(2.0))
    assert parse_expression("round(sum(rows.amount), 2)") == Call(
        "round", (Call("sum", (Name("amount", group="rows"),)), Number(2.0)))
    assert parse_expression("a - b - c") == Operation(
        "-", Operation("-", Name("a"), Name("b")), Name("c"))  # left to right


@pytest.mark.parametrize("text", [
    "", "   ", "net +", "(net", "net)", "net net", "1..2", "net.", "__import__('os')",
    "net ** 2", "net; drop", "NET", "1e5", "net[0]", "lambda: 1", "\u0661 + 1",
])
def test_anything_outside_the_grammar_is_refused(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse_expression(text)


def test_hostile_sizes_are_refused_quickly_without_recursion_errors() -> None:
    with pytest.raises(ExpressionError, match="at most 2000 characters"):
        parse_expression("1+" * MAX_EXPRESSION_LENGTH + "1")
    with pytest.raises(ExpressionError, match="nest at most"):
        parse_expression("(" * 500 + "1" + ")" * 500)
    with pytest.raises(ExpressionError, match="nest at most"):
        parse_expression("-" * 900 + "1")
    with pytest.raises(ExpressionError, match="nest at most"):
        parse_expression("+".join(["net"] * 400))
    problems = check_form(_form("(" * 5000))
    assert {p.pointer for p in problems if p.severity == "error"} == {
        "/steps/0/fields/2/expression"}


def test_definition_errors_name_the_expression() -> None:
    text_field = {"id": "title", "type": "text", "label": "Titel"}
    found = {p.format() for p in check_form(_form("net + title", text_field))}
    assert ("/steps/0/fields/2/expression: 'title' is a text field: calculations read number "
            "and calculated fields only") in found
    found = {p.format() for p in check_form(_form("round(net, -1)"))}
    assert any("second argument of 'round'" in p for p in found)
    found = {p.format() for p in check_form(_form("min()"))}
    assert any("'min' takes at least 1 argument(s), not 0" in p for p in found)
    found = {p.format() for p in check_form({**_form("net"), "steps": [{
        "id": "s", "title": "S", "fields": [
            {"id": "net", "type": "number", "label": "N"},
            {"id": "total", "type": "calculated", "label": "T", "expression": "net",
             "required": True, "default": 3, "max": 4}]}]})}
    assert "/steps/0/fields/1/required: 'required' does not apply to a calculated field" in found
    assert "/steps/0/fields/1/default: 'default' does not apply to a calculated field" in found
    assert "/steps/0/fields/1/max: 'max' does not apply to a calculated field" in found
    found = {p.format() for p in check_form({**_form("net"), "applicant": {"name": "total"}})}
    assert "/applicant/name: 'total' is not an input field of this form" in found


def test_round_is_half_away_from_zero() -> None:
    assert [round_half_away(v, 0) for v in (0.5, 1.5, 2.5, -0.5, -2.5)] == [1, 2, 3, -1, -3]
    assert round_half_away(0.125, 2) == 0.13  # Python's round() would give 0.12
    assert round(0.125, 2) == 0.12


def test_a_sent_value_for_a_calculated_field_is_ignored_and_the_computed_one_stored() -> None:
    form = load_form(_form("round((net + extra) * 1.19, 2)"))
    result = evaluate(form, {"net": "1000", "extra": "17,5", "total": "1"})
    assert result.answers is not None and result.answers["total"] == 1210.83
    assert result.calculated == {"total": 1210.83}
    broken = evaluate(form, {"net": "abc", "extra": "1"})
    assert broken.answers is None and broken.invalid == ["net"]
    assert broken.calculated == {"total": None}  # an invalid operand counts as empty


def test_a_workflow_guard_reads_a_calculated_value() -> None:
    form = load_form(_form("net + extra"))
    workflow = load_workflow(guarded_workflow(
        {"field": "total", "op": "less_or_equal", "value": 10000}))
    assert check_guards_against_form(workflow, form) == []
    guard = bind_guards(workflow, form)
    small = evaluate(form, {"net": "6000", "extra": "4000"}).answers
    large = evaluate(form, {"net": "6000", "extra": "4000.5"}).answers
    assert small is not None and large is not None
    outcome = fire(workflow, "reviewed", "accept", roles=COORDINATOR, answers=small, guard=guard)
    assert outcome.to_state == "accepted"
    with pytest.raises(GuardFailed):
        fire(workflow, "reviewed", "accept", roles=COORDINATOR, answers=large, guard=guard)


def test_a_guard_cannot_compare_a_calculated_value_with_text() -> None:
    form = load_form(_form("net + extra"))
    workflow = load_workflow(guarded_workflow(
        {"field": "total", "op": "contains", "value": "1"}))
    problems = check_guards_against_form(workflow, form)
    assert problems and "does not fit field 'total' of type calculated" in problems[0].message
