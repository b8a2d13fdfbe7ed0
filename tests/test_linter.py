"""Linter warnings: definitions that load but probably do not do what their author meant.

Each kind of warning is triggered by the smallest form that shows it, through ``check_form``
(the call administrators and the CLI use), and none of them may stop ``load_form``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.definitions import check_form, load_form
from engine.evaluation import evaluate
from engine.problems import Problem

ALWAYS: dict[str, Any] = {"all": []}
NEVER: dict[str, Any] = {"any": []}


def _text(field_id: str) -> dict[str, Any]:
    return {"id": field_id, "type": "text", "label": field_id}


def _form(steps: list[dict[str, Any]], rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": "lint", "title": "Lint", "languages": ["de", "en"], "steps": steps,
            "rules": rules}


def _warnings(data: dict[str, Any]) -> list[Problem]:
    problems = check_form(data)
    assert [p.format() for p in problems if p.severity == "error"] == []
    form = load_form(data)  # warnings never stop loading
    evaluate(form, {})
    return [p for p in problems if p.severity == "warning"]


def test_rule_reading_a_later_step_is_reported() -> None:
    data = _form(
        [{"id": "one", "fields": [_text("early")]}, {"id": "two", "fields": [_text("late")]}],
        [{"when": {"field": "late", "op": "is_not_empty"}, "require": ["early"]}],
    )
    (warning,) = _warnings(data)
    assert warning.pointer == "/rules/0/when"
    assert "'late' on step 2" in warning.message and "'early' on step 1" in warning.message


def test_reading_an_earlier_step_or_the_same_step_is_fine() -> None:
    data = _form(
        [{"id": "one", "fields": [_text("a"), _text("b")]},
         {"id": "two", "fields": [_text("c")]}],
        [{"when": {"field": "a", "op": "is_not_empty"}, "show": ["b", "c", "two"]}],
    )
    assert _warnings(data) == []


def test_field_hidden_by_an_always_true_rule_is_never_visible() -> None:
    data = _form([{"id": "one", "fields": [_text("a"), _text("gone")]}],
                 [{"when": ALWAYS, "hide": ["gone"]}])
    (warning,) = _warnings(data)
    assert warning.pointer == "/steps/0/fields/1"
    assert "'gone' can never be visible" in warning.message


def test_field_shown_only_by_reading_a_never_visible_field_is_never_visible() -> None:
    data = _form(
        [{"id": "one", "fields": [_text("a"), _text("ghost"), _text("follower")]}],
        [{"when": ALWAYS, "hide": ["ghost"]},
         {"when": {"field": "ghost", "op": "is_not_empty"}, "show": ["follower"]}],
    )
    warned = {w.pointer: w.message for w in _warnings(data)}
    assert set(warned) == {"/steps/0/fields/1", "/steps/0/fields/2", "/rules/1/when"}
    assert "can never hold (it only reads fields" in warned["/rules/1/when"]
    assert "'follower' can never be visible" in warned["/steps/0/fields/2"]
    # the applicant cannot get it shown, whatever they send
    result = evaluate(load_form(data), {"ghost": "x", "follower": "y"})
    assert result.visible_fields == ["a"]


def test_reading_a_never_visible_field_as_empty_can_still_show() -> None:
    data = _form(
        [{"id": "one", "fields": [_text("a"), _text("ghost"), _text("follower")]}],
        [{"when": ALWAYS, "hide": ["ghost"]},
         {"when": {"field": "ghost", "op": "is_empty"}, "show": ["follower"]}],
    )
    assert [w.pointer for w in _warnings(data)] == ["/steps/0/fields/1"]


def test_step_with_no_field_that_can_be_visible() -> None:
    data = _form(
        [{"id": "one", "fields": [_text("a")]}, {"id": "two", "fields": [_text("b")]}],
        [{"when": ALWAYS, "hide": ["b"]}],
    )
    warned = {w.pointer: w.message for w in _warnings(data)}
    assert "step 'two' has no field that can ever be visible" == warned["/steps/1"]
    assert "/steps/1/fields/0" in warned


def test_empty_step_is_reported() -> None:
    data = _form([{"id": "one", "fields": [_text("a")]}, {"id": "two", "fields": []}], [])
    (warning,) = _warnings(data)
    assert (warning.pointer, warning.message) == (
        "/steps/1", "step 'two' has no field that can ever be visible")


def test_step_never_visible() -> None:
    data = _form(
        [{"id": "one", "fields": [_text("a")]},
         {"id": "two", "fields": [_text("b")]},
         {"id": "three", "fields": [_text("c")]}],
        [{"when": NEVER, "show": ["two"]}, {"when": {"not": NEVER}, "hide": ["three"]}],
    )
    warned = {w.pointer: w.message for w in _warnings(data)}
    assert warned == {"/steps/1": "step 'two' can never be visible",
                      "/steps/2": "step 'three' can never be visible",
                      "/rules/0/when": "this condition can never hold (an empty 'any' never "
                                       "holds): the rule never applies"}
    assert evaluate(load_form(data), {"a": "x"}).visible_steps == ["one"]


def test_a_condition_that_can_never_hold() -> None:
    topic = {"id": "topic", "type": "select", "label": "T",
             "options": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]}
    data = _form(
        [{"id": "one", "fields": [topic, _text("x"), _text("y")]}],
        [{"when": {"all": [{"field": "topic", "op": "equal_to", "value": "a"},
                           {"field": "topic", "op": "equal_to", "value": "b"}]},
          "show": ["x"]},
         {"when": {"any": [{"all": [{"field": "y", "op": "is_empty"},
                                    {"field": "y", "op": "is_not_empty"}]}]},
          "require": ["y"]}],
    )
    warned = {w.pointer: w.message for w in _warnings(data)}
    assert "'topic' cannot equal 'a' and 'b' at once" in warned["/rules/0/when"]
    assert "'y' cannot be empty and not empty at once" in warned["/rules/1/when"]
    assert "'x' can never be visible" in warned["/steps/0/fields/1"]


def test_a_rule_whose_targets_are_always_hidden() -> None:
    data = _form(
        [{"id": "one", "fields": [_text("a"), _text("gone")]}],
        [{"when": ALWAYS, "hide": ["gone"]},  # the rule that hides it: no warning of its own
         {"when": {"field": "a", "op": "is_not_empty"}, "require": ["gone"]},
         {"when": {"field": "a", "op": "is_empty"}, "hide": ["gone"]}],
    )
    warned = {w.pointer: w.message for w in _warnings(data)}
    assert "/rules/0" not in warned
    assert warned["/rules/1"] == ("its targets ('gone') can never be visible: the rule has "
                                  "no effect")
    assert "/rules/2" in warned


def test_a_normal_form_has_no_warnings() -> None:
    vectors = json.loads((Path(__file__).parent / "rule-vectors.json").read_text("utf-8"))
    assert _warnings(vectors["cases"][0]["form"]) == []


def test_text_empty_in_a_listed_language_is_a_warning() -> None:
    field = {"id": "name", "type": "text", "label": {"de": "Name", "en": ""},
             "help": {"de": "Vor- und Nachname"}}
    data = _form([{"id": "one", "title": {"de": "Eins", "en": "One"}, "fields": [field]}], [])
    data["title"] = {"de": "Prüfung", "en": "Lint"}
    assert [p.format() for p in _warnings(data)] == [
        "/steps/0/fields/0/label: empty in 'en', a language the form lists: applicants "
        "reading it see another language's text",
        "/steps/0/fields/0/help: empty in 'en', a language the form lists: applicants "
        "reading it see another language's text",
    ]
    field["label"]["en"] = "Name"
    field["help"]["en"] = "First and last name"
    assert _warnings(data) == []
