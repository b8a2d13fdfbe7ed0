"""Property tests of form evaluation over random definitions and random answers.

The vectors pin down chosen examples; these check the promises of DEFINITIONS §2 that must hold
for *every* form: evaluation is a pure function, hidden answers never leak (neither into storage
nor into anyone's visibility), stored answers are a fixed point, and the linter's "never visible"
warnings are never false alarms. Generated forms use only forward references — a rule reads
fields that come before its targets in document order — so they are acyclic by construction and
document order is a valid evaluation order for the small reference evaluator below.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable, Mapping
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.answers import check, convert, is_empty, stored_empty
from engine.conditions import OPERATORS, holds
from engine.definitions import check_form, load_form
from engine.evaluation import Evaluation, compile_form, evaluate
from engine.model import INPUT_TYPES, TEXT_TYPES, FormDefinition

Draw = Callable[[st.SearchStrategy[Any]], Any]
Json = dict[str, Any]

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

FIELD_TYPES = sorted(INPUT_TYPES | {"paragraph"})
OPTION_VALUES = ("a", "b", "c", "d")
_OMIT = object()
"""Marks a rule value left out of the condition (``value`` omitted means empty)."""

# ---------------------------------------------------------------------------------------------
# Values: plausible answers per type, and junk of any JSON-ish shape
# ---------------------------------------------------------------------------------------------

_WORDS = st.text(alphabet=" abcxyzABCäß", max_size=10)
_DATES = st.dates(datetime.date(2015, 1, 1), datetime.date(2035, 12, 31)).map(
    datetime.date.isoformat
)
_NUMBERS = st.one_of(
    st.integers(-20, 200),
    st.floats(-20, 200, allow_nan=False).map(lambda x: round(x, 2)),
)
_NUMBER_TEXTS = st.one_of(
    _NUMBERS.map(str),
    st.integers(-20, 200).map(lambda n: f" {n} "),
    st.integers(0, 99).map(lambda n: f"{n},5"),  # German decimal comma
)
JUNK: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(),  # NaN and infinities included
    st.text(max_size=6),
    st.lists(st.one_of(st.text(max_size=3), st.integers(), st.none()), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def _options(raw_field: Json) -> list[str]:
    return [o["value"] for o in raw_field.get("options", [])]


def plausible_answer(raw_field: Json) -> st.SearchStrategy[Any]:
    """What a browser or API client would send for the field: mostly valid, sometimes empty."""
    kind = raw_field["type"]
    empty = st.sampled_from([None, ""])
    if kind == "email":
        return st.sampled_from(["ada@example.org", " b@c.de ", "not-an-address"]) | empty
    if kind == "url":
        return st.sampled_from(["https://example.org", "http://x.de/a", "example.org"]) | empty
    if kind == "tel":
        return st.sampled_from(["+49 30 123456", "0301234", "call me"]) | empty
    if kind in TEXT_TYPES:
        return _WORDS | empty
    if kind == "number":
        return _NUMBERS | _NUMBER_TEXTS | empty
    if kind == "date":
        return _DATES | st.sampled_from(["2023-02-30", "01.02.2024"]) | empty
    if kind in ("select", "radio"):
        return st.sampled_from(_options(raw_field)) | empty
    if kind == "checkboxes":
        options = _options(raw_field)
        return st.lists(st.sampled_from(options), max_size=4) | st.sampled_from(options) | empty
    if kind == "checkbox":
        return st.booleans() | st.sampled_from(["on", "", "true", "off", None])
    return JUNK  # paragraph: nothing sensible to send


# ---------------------------------------------------------------------------------------------
# Definitions
# ---------------------------------------------------------------------------------------------


def _field(draw: Draw, field_id: str, kind: str) -> Json:
    raw: Json = {"id": field_id, "type": kind}
    if kind == "paragraph":
        raw["content"] = {"de": "Hinweis", "en": "Note"}
        return raw
    raw["label"] = {"de": f"Feld {field_id}", "en": f"Field {field_id}"}
    if draw(st.booleans()):
        raw["required"] = draw(st.booleans())
    if kind in TEXT_TYPES:
        if draw(st.booleans()):
            raw["min_length"] = draw(st.integers(0, 3))
        if draw(st.booleans()):
            raw["max_length"] = draw(st.integers(3, 12))
        if kind == "text" and draw(st.booleans()):
            raw["pattern"] = "[A-Za-zäß ]*"
    elif kind == "number":
        if draw(st.booleans()):
            raw["min"] = draw(st.integers(-10, 0))
        if draw(st.booleans()):
            raw["max"] = draw(st.integers(1, 150))
        if draw(st.booleans()):
            raw["step"] = draw(st.sampled_from([1, 0.5, 5]))
    elif kind == "date":
        if draw(st.booleans()):
            raw["min"] = "2020-01-01"
        if draw(st.booleans()):
            raw["max"] = "2030-12-31"
    elif kind in ("select", "radio", "checkboxes"):
        values = draw(st.lists(st.sampled_from(OPTION_VALUES), min_size=1, max_size=4,
                               unique=True))
        raw["options"] = [{"value": v, "label": v.upper()} for v in values]
        if kind == "checkboxes":
            if draw(st.booleans()):
                raw["min_selected"] = draw(st.integers(0, 2))
            if draw(st.booleans()):
                raw["max_selected"] = draw(st.integers(2, 4))
    return raw


def _scalar_value(raw_field: Json) -> st.SearchStrategy[Any]:
    """One comparison value of the field's type (a single option for checkboxes)."""
    kind = raw_field["type"]
    if kind in TEXT_TYPES:
        return _WORDS
    if kind == "number":
        return _NUMBERS | _NUMBER_TEXTS
    if kind == "date":
        return _DATES
    return st.sampled_from(_options(raw_field))


def _rule_value(draw: Draw, raw_field: Json, op: str) -> Any:
    kind = raw_field["type"]
    if op in ("is_empty", "is_not_empty"):
        return draw(st.sampled_from([_OMIT, None]))
    if op in ("one_of", "none_of"):
        return draw(st.lists(_scalar_value(raw_field), max_size=3))
    if op in ("contains", "not_contains") and kind == "checkboxes":
        return draw(st.sampled_from(_options(raw_field)))
    if op in ("contains", "not_contains", "starts_with", "ends_with"):
        return draw(st.text(alphabet="abcAB ", min_size=1, max_size=3).filter(str.strip))
    if op in ("greater_than", "greater_or_equal", "less_than", "less_or_equal"):
        return draw(_scalar_value(raw_field))
    # equal_to / not_equal_to: any value of the type, or empty
    if kind == "checkbox":
        return draw(st.booleans() | st.sampled_from([_OMIT, None]))
    if kind == "checkboxes":
        options = _options(raw_field)
        typed = st.lists(st.sampled_from(options), max_size=3) | st.sampled_from(options)
    else:
        typed = _scalar_value(raw_field)
    return draw(typed | st.sampled_from([_OMIT, None, ""]))


def _condition(draw: Draw, readable: list[Json], depth: int = 0) -> Json:
    kinds = (["leaf", "leaf"] if readable else []) + (["all", "any", "not"] if depth < 2 else [])
    if not kinds:
        return {draw(st.sampled_from(["all", "any"])): []}
    kind = draw(st.sampled_from(kinds))
    if kind == "not":
        return {"not": _condition(draw, readable, depth + 1)}
    if kind in ("all", "any"):
        size = draw(st.integers(0, 3))
        return {kind: [_condition(draw, readable, depth + 1) for _ in range(size)]}
    raw_field = draw(st.sampled_from(readable))
    ops = sorted(op for op, operator in OPERATORS.items() if raw_field["type"] in operator.types)
    op = draw(st.sampled_from(ops))
    condition: Json = {"field": raw_field["id"], "op": op}
    value = _rule_value(draw, raw_field, op)
    if value is not _OMIT:
        condition["value"] = value
    return condition


@st.composite
def forms(draw: Draw) -> Json:
    """A valid form of 1–3 steps, every field type possible, and forward-only rules."""
    steps: list[Json] = []
    nodes: list[Json | str] = []  # document order: a step id, then its fields
    counter = 0
    for s in range(draw(st.integers(1, 3))):
        step: Json = {"id": f"s{s}", "title": {"de": f"Schritt {s}", "en": f"Step {s}"},
                      "fields": []}
        steps.append(step)
        nodes.append(step["id"])
        for _ in range(draw(st.integers(0, 4))):
            raw_field = _field(draw, f"f{counter}", draw(st.sampled_from(FIELD_TYPES)))
            counter += 1
            step["fields"].append(raw_field)
            nodes.append(raw_field)
    inputs = [n for n in nodes if isinstance(n, dict) and n["type"] != "paragraph"]

    rules: list[Json] = []
    for _ in range(draw(st.integers(0, 6))):
        split = draw(st.integers(0, len(nodes) - 1))
        readable = [n for n in nodes[:split] if isinstance(n, dict) and n["type"] != "paragraph"]
        targets = [n if isinstance(n, str) else n["id"] for n in nodes[split:]]
        rule: Json = {"when": _condition(draw, readable)}
        for effect in ("show", "hide"):
            if draw(st.integers(0, 2)) == 0:
                rule[effect] = draw(st.lists(st.sampled_from(targets), min_size=1, max_size=2,
                                             unique=True))
        # require adds no visibility dependency, so it may target any input field
        if inputs and draw(st.booleans()):
            rule["require"] = draw(st.lists(st.sampled_from([f["id"] for f in inputs]),
                                            min_size=1, max_size=2, unique=True))
        if not any(effect in rule for effect in ("show", "hide", "require")):
            rule["show"] = [draw(st.sampled_from(targets))]
        rules.append(rule)
    return {"id": "prop", "title": {"de": "Eigenschaften", "en": "Properties"},
            "languages": draw(st.sampled_from([["de", "en"], ["en", "de"], ["de"]])),
            "steps": steps, "rules": rules}


@st.composite
def forms_with_answers(draw: Draw) -> tuple[Json, Json]:
    """A form and answers: plausible, junk, missing, and keys naming no input field."""
    raw_form = draw(forms())
    answers: Json = {}
    for step in raw_form["steps"]:
        for raw_field in step["fields"]:
            how = draw(st.sampled_from(["plausible", "plausible", "plausible", "junk", "absent"]))
            if how == "plausible":
                answers[raw_field["id"]] = draw(plausible_answer(raw_field))
            elif how == "junk":
                answers[raw_field["id"]] = draw(JUNK)
    for key in draw(st.lists(st.sampled_from(["s0", "zz", "f99", "", "__proto__"]), max_size=2)):
        answers[key] = draw(JUNK)
    return raw_form, answers


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def _normal(value: Any) -> Any:
    """Evaluation output with NaN made comparable (NaN never reaches it, but be explicit)."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return {k: _normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_normal(v) for v in value]
    return value


def _output(evaluation: Evaluation) -> Json:
    output: Json = _normal({**evaluation.as_json(), "codes": evaluation.codes})
    return output


def _input_ids(form: FormDefinition) -> set[str]:
    return {f.id for f in form.fields() if f.is_input}


def _reference(form: FormDefinition, answers: Mapping[str, Any]) -> Json:
    """DEFINITIONS §2 read literally, in document order (valid here: references go forward)."""
    visible: dict[str, bool] = {}
    values: dict[str, Any] = {}

    def shown(node_id: str) -> bool:
        shows = [r for r in form.rules if node_id in r.show]
        hides = [r for r in form.rules if node_id in r.hide]
        if shows and not any(holds(r.when, values) for r in shows):
            return False
        return not any(holds(r.when, values) for r in hides)

    for step in form.steps:
        visible[step.id] = shown(step.id)
        for f in step.fields:
            visible[f.id] = visible[step.id] and shown(f.id)
            if f.is_input:
                values[f.id] = convert(f, answers.get(f.id))[0] if visible[f.id] else None

    required, invalid, stored = [], [], {}
    for f in form.fields():
        if not (f.is_input and visible[f.id]):
            continue
        value, error = convert(f, answers.get(f.id))
        is_required = f.required or any(
            f.id in r.require and holds(r.when, values) for r in form.rules
        )
        if is_required:
            required.append(f.id)
        if error is not None or (is_empty(value) and is_required):
            invalid.append(f.id)
        elif not is_empty(value) and check(f, value):
            invalid.append(f.id)
        stored[f.id] = stored_empty(f) if is_empty(value) else value
    return {
        "visible_fields": sorted(f.id for f in form.fields() if visible[f.id]),
        "visible_steps": [s.id for s in form.steps if visible[s.id]],
        "required": sorted(required),
        "invalid": sorted(invalid),
        "stored": stored,
    }


# ---------------------------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------------------------


@SETTINGS
@given(forms())
def test_every_generated_definition_loads_without_errors(raw_form: Json) -> None:
    errors = [p.format() for p in check_form(raw_form) if p.severity == "error"]
    assert errors == []
    form = load_form(raw_form)
    assert [s.id for s in form.steps] == [s["id"] for s in raw_form["steps"]]
    assert len(form.rules) == len(raw_form["rules"])


@SETTINGS
@given(forms_with_answers())
def test_evaluation_is_deterministic_and_ignores_key_order(case: tuple[Json, Json]) -> None:
    raw_form, answers = case
    form = load_form(raw_form)
    first = _output(evaluate(form, answers))
    assert _output(evaluate(form, answers)) == first
    assert _output(evaluate(compile_form(form), answers)) == first
    reversed_answers = dict(reversed(list(answers.items())))
    assert _output(evaluate(form, reversed_answers)) == first


@SETTINGS
@given(forms_with_answers())
def test_stored_answers_are_exactly_the_visible_input_fields(case: tuple[Json, Json]) -> None:
    raw_form, answers = case
    form = load_form(raw_form)
    result = evaluate(form, answers)
    visible_inputs = set(result.visible_fields) & _input_ids(form)
    if result.invalid:
        assert result.answers is None
    else:
        assert result.answers is not None
        assert set(result.answers) == visible_inputs
        assert list(result.answers) == sorted(result.answers)


@SETTINGS
@given(forms_with_answers(), st.data())
def test_visibility_never_reads_a_hidden_answer(
    case: tuple[Json, Json], data: st.DataObject
) -> None:
    raw_form, answers = case
    form = load_form(raw_form)
    before = _output(evaluate(form, answers))
    hidden = sorted(_input_ids(form) - set(before["visible_fields"]))
    if not hidden:
        return
    changed = dict(answers)
    raw_fields = {f["id"]: f for s in raw_form["steps"] for f in s["fields"]}
    for field_id in hidden:
        how = data.draw(st.sampled_from(["plausible", "junk", "remove"]), label=field_id)
        if how == "remove":
            changed.pop(field_id, None)
        else:
            strategy = plausible_answer(raw_fields[field_id]) if how == "plausible" else JUNK
            changed[field_id] = data.draw(strategy, label=field_id)
    # hidden answers are dropped entirely: nothing at all may change, not only visibility
    assert _output(evaluate(form, changed)) == before


@SETTINGS
@given(forms_with_answers())
def test_invalid_and_required_fields_are_visible_with_messages(case: tuple[Json, Json]) -> None:
    raw_form, answers = case
    form = load_form(raw_form)
    result = evaluate(form, answers, "en")
    visible = set(result.visible_fields)
    assert set(result.invalid) <= visible & _input_ids(form)
    assert set(result.required) <= visible & _input_ids(form)
    assert sorted(result.errors) == result.invalid == sorted(result.codes)
    assert all(result.errors[f] and all(result.errors[f]) for f in result.invalid)
    fields = form.field_map()
    assert all(fields[f].step in result.visible_steps for f in result.visible_fields)


@SETTINGS
@given(forms_with_answers())
def test_evaluation_agrees_with_a_literal_reading_of_the_spec(case: tuple[Json, Json]) -> None:
    raw_form, answers = case
    form = load_form(raw_form)
    result = evaluate(form, answers)
    expected = _reference(form, answers)
    assert result.visible_fields == expected["visible_fields"]
    assert result.visible_steps == expected["visible_steps"]
    assert result.required == expected["required"]
    assert result.invalid == expected["invalid"]
    if result.answers is not None:
        assert _normal(result.answers) == _normal(expected["stored"])


@SETTINGS
@given(forms_with_answers())
def test_stored_answers_are_a_fixed_point(case: tuple[Json, Json]) -> None:
    raw_form, answers = case
    form = load_form(raw_form)
    first = evaluate(form, answers)
    if first.answers is None:
        return
    again = evaluate(form, first.answers)
    assert again.invalid == []
    assert again.answers == first.answers
    assert again.visible_fields == first.visible_fields
    assert again.required == first.required


@SETTINGS
@given(forms_with_answers())
def test_never_visible_warnings_are_never_false_alarms(case: tuple[Json, Json]) -> None:
    raw_form, answers = case
    form = load_form(raw_form)
    warned = {p.message.split("'")[1] for p in check_form(raw_form)
              if p.severity == "warning" and "can never be visible" in p.message}
    result = evaluate(form, answers)
    assert not warned & set(result.visible_fields)
    assert not warned & set(result.visible_steps)
