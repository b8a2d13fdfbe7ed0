"""The hostile corpus (hostile-cases.json) through the engine: a clear error, never a crash.

WHY: each case once made formflow fail — a 500, a worker stuck for minutes, a text stored that
broke every page showing it (issue 14). Each must now end in a field error, a definition
problem or a template failure that names the mistake. The catastrophic inputs are sized to
hang the code they once broke (a backtracking pattern against 40 "a"s and a "!", a 256 kB
quadratic e-mail): that such a case finishes at all is the proof, so no timing is asserted.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.definitions import check_form, load_form
from engine.evaluation import evaluate
from engine.exceptions import DefinitionError, TemplateFailed
from engine.jsondata import parse_json
from engine.problems import errors_only
from engine.templating import render_template
from engine.workflows import check_workflow, load_workflow

CASES = json.loads((Path(__file__).parent / "hostile-cases.json").read_text("utf-8"))


def build(value: Any) -> Any:
    """A case's value with the corpus's builders ($text, $int, $float, $nested_…) applied."""
    if isinstance(value, list):
        return [build(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "$text" in value:
        return "".join(part * times for part, times in value["$text"])
    if "$int" in value:
        return int("9" * value["$int"])
    if "$float" in value:
        return float(value["$float"])
    if "$nested_not" in value:
        condition: dict[str, Any] = {"field": "a", "op": "is_empty"}
        for _ in range(value["$nested_not"]):
            condition = {"not": condition}
        return condition
    if "$nested_list" in value:
        nested: list[Any] = []
        for _ in range(value["$nested_list"]):
            nested = [nested]
        return nested
    return {key: build(item) for key, item in value.items()}


def _form(field: dict[str, Any], rules: list[Any] | None = None) -> dict[str, Any]:
    return {
        "id": "hostile", "title": "Hostile", "languages": ["de", "en"],
        "steps": [{"id": "s", "title": "S", "fields": [
            {"id": "a", "label": "A", **field}, {"id": "b", "type": "text", "label": "B"},
        ]}],
        "rules": rules or [],
    }


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [case["name"] for case in cases]


@pytest.mark.parametrize("case", CASES["answers"], ids=_ids(CASES["answers"]))
def test_hostile_answer_is_a_field_error(case: dict[str, Any]) -> None:
    form = load_form(_form(build(case["field"])))
    for language in ("de", "en"):
        result = evaluate(form, {"a": build(case["answer"])}, language)
        assert result.codes == {"a": [case["code"]]}
        assert result.as_json()["answers"] is None  # nothing of it would be stored
        (text,) = result.errors["a"]
        assert text.strip() and "{" not in text


@pytest.mark.parametrize("case", CASES["definitions"], ids=_ids(CASES["definitions"]))
def test_hostile_definition_is_refused_with_a_problem(case: dict[str, Any]) -> None:
    field = build(case.get("form_field", {"type": "text"}))
    rules = [{"when": build(case["rule_when"]), "show": ["b"]}] if "rule_when" in case else []
    data = _form(field, rules)
    problems = errors_only(check_form(data))
    expected = case["pointer"]
    assert any(p.pointer == expected or p.pointer.startswith(expected + "/") for p in problems), [
        p.format() for p in problems]
    for problem in problems:  # every problem can be printed and sent as UTF-8
        problem.format().encode("utf-8")
    with pytest.raises(DefinitionError):
        load_form(data)


FIELD_CASES = [case for case in CASES["definitions"] if "form_field" in case]


@pytest.mark.parametrize("case", FIELD_CASES, ids=_ids(FIELD_CASES))
def test_hostile_parts_in_a_workflow_are_refused_too(case: dict[str, Any]) -> None:
    value = build(case["form_field"])
    data = {"id": "w", "title": "W", "initial": "a", "states": [{"id": "a", "label": "A",
            "final": True}], "transitions": [], "extra": value}
    problems = errors_only(check_workflow(data))
    assert problems
    with pytest.raises(DefinitionError):
        load_workflow(data)


@pytest.mark.parametrize("case", CASES["definition_texts"], ids=_ids(CASES["definition_texts"]))
def test_hostile_definition_text_is_refused_when_parsed(case: dict[str, Any]) -> None:
    text = bytes.fromhex(case["bytes_hex"]) if "bytes_hex" in case else build(case["text"])
    with pytest.raises(DefinitionError) as refused:
        parse_json(text)
    (problem,) = refused.value.problems
    assert problem.pointer == ""
    assert case["words"] in problem.message


def _workflow(source: str) -> dict[str, Any]:
    return {
        "id": "w", "title": "W", "initial": "a",
        "states": [{"id": "a", "label": "A", "final": True}], "transitions": [],
        "notifications": [{"on": "a", "to": "applicant", "template": "t"}],
        "templates": {"t": {"subject": "S", "body": "B", "html": source}},
    }


@pytest.mark.parametrize("case", CASES["templates"], ids=_ids(CASES["templates"]))
def test_hostile_template_is_a_problem_or_a_named_failure(case: dict[str, Any]) -> None:
    data = _workflow(build(case["source"]))
    problems = errors_only(check_workflow(data))
    if "problem" in case:
        assert [p.pointer for p in problems] == ["/templates/t/html"]
        assert case["problem"] in problems[0].message
        # A version stored before the check was added still loads; the template then fails.
        workflow = load_workflow(data, stored=True)
        assert [p.severity for p in check_workflow(data, stored=True)
                if p.pointer == "/templates/t/html"] == ["warning"]
    else:
        assert problems == []
        workflow = load_workflow(data)
    with pytest.raises(TemplateFailed) as failed:
        render_template(workflow, "t", language="de", submission={"reference": "R-1"},
                        answers={"x": "<script>alert(1)</script>", "long": "y" * 60_000})
    if "fails" in case:
        assert case["fails"] in str(failed.value)
