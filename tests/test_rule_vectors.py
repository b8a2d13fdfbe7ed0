"""The shared conformance vectors (a copy of the spec's rule-vectors.json) against the engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.definitions import check_form, load_form
from engine.evaluation import evaluate

VECTORS = json.loads((Path(__file__).parent / "rule-vectors.json").read_text("utf-8"))


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_evaluation_case(case: dict[str, Any]) -> None:
    result = evaluate(load_form(case["form"]), case["answers"]).as_json()
    expect = case["expect"]
    for key in ("visible_fields", "visible_steps", "required", "invalid", "answers"):
        assert result[key] == expect[key], key
    assert sorted(result["errors"]) == expect["invalid"]


def _within(pointer: str, expected: str) -> bool:
    parent = expected.rsplit("/", 1)[0]
    return pointer == expected or pointer.startswith(expected + "/") or pointer == parent


@pytest.mark.parametrize("case", VECTORS["invalid_definitions"], ids=lambda c: c["name"])
def test_invalid_definition_refused(case: dict[str, Any]) -> None:
    problems = [p for p in check_form(case["form"]) if p.severity == "error"]
    expected = case["pointer"] if isinstance(case["pointer"], list) else [case["pointer"]]
    assert problems, "the definition must be refused"
    assert any(_within(p.pointer, e) for p in problems for e in expected), [
        p.format() for p in problems
    ]
    if "cycle" in case["name"]:
        (cycle,) = [p for p in problems if "cycle" in p.message]
        assert "a → b → a" in cycle.message or "b → a → b" in cycle.message
