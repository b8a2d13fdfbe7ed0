"""Generated hostile input, so the next crash is found by CI rather than by a user.

- Any text, number or JSON junk into every field type of every shipped form: evaluation gives
  field errors or stored answers, never an exception, and whatever it stores can be written as
  UTF-8 JSON (what broke every page once: a lone surrogate that was stored).
- Random definitions, and shipped ones mutated at a random place: ``check_form`` answers with
  problems, ``load_form`` with a form or ``DefinitionError`` — never any other exception.
- Random template sources: a problem when checked, or a rendering that ends, perhaps in
  ``TemplateFailed``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.definitions import check_form, load_form
from engine.evaluation import evaluate
from engine.exceptions import DefinitionError, TemplateFailed
from engine.jsondata import parse_json
from engine.templating import render_template
from engine.workflows import check_workflow, load_workflow
from support.hostile import HOSTILE_TEXT, JSON_ISH, NUMBERS, SHIPPED_FORMS, json_paths, replaced

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = SHIPPED_FORMS
FORMS = {name: load_form(data) for name, data in SHIPPED.items()}

SETTINGS = settings(max_examples=200, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

ANSWER = st.one_of(HOSTILE_TEXT, NUMBERS, JSON_ISH)


def _stored_as_json(result: dict[str, Any]) -> None:
    """What the engine would store can be written as strict UTF-8 JSON."""
    json.dumps(result, ensure_ascii=False, allow_nan=False).encode("utf-8")


@SETTINGS
@given(name=st.sampled_from(sorted(FORMS)), data=st.data())
def test_any_answer_to_any_shipped_field_is_an_error_or_stored_cleanly(
    name: str, data: st.DataObject
) -> None:
    form = FORMS[name]
    ids = [f.id for f in form.fields()]
    answers = data.draw(st.dictionaries(st.sampled_from(ids), ANSWER, max_size=len(ids)))
    for language in ("de", "en"):
        result = evaluate(form, answers, language).as_json()
        _stored_as_json(result)
        for value in (result["answers"] or {}).values():
            if isinstance(value, float):
                assert math.isfinite(value) and abs(value) < 10**15
            if isinstance(value, int) and not isinstance(value, bool):
                assert abs(value) < 10**15


def _loads_or_refuses(data: Any) -> None:
    problems = check_form(data)
    for problem in problems:
        problem.format().encode("utf-8")
    try:
        load_form(data)
    except DefinitionError as refused:
        assert refused.problems
    else:
        assert not [p for p in problems if p.severity == "error"]


@SETTINGS
@given(name=st.sampled_from(sorted(SHIPPED)), data=st.data())
def test_a_mutated_shipped_form_gives_problems_or_a_form(name: str, data: st.DataObject) -> None:
    document = SHIPPED[name]
    path = data.draw(st.sampled_from(json_paths(document)))
    _loads_or_refuses(replaced(document, path, data.draw(JSON_ISH)))


@SETTINGS
@given(JSON_ISH)
def test_a_random_document_gives_problems_or_a_form(data: Any) -> None:
    _loads_or_refuses(data)
    _loads_or_refuses({"id": "x", "title": "X", "languages": ["de"], "steps": data})


@SETTINGS
@given(st.one_of(st.text(), st.binary()))
def test_any_definition_text_is_parsed_or_refused(text: str | bytes) -> None:
    try:
        data = parse_json(text)
    except DefinitionError as refused:
        assert [p.pointer for p in refused.problems] == [""]
    else:
        _loads_or_refuses(data)


TEMPLATE_PIECES = st.sampled_from([
    "{{ answers.x }}", "{{ answers.x|upper }}", "{% for c in answers.x %}", "{% endfor %}",
    "{% if answers.x %}", "{% endif %}", "{{ ", " }}", "{% ", " %}", "(", ")", "|safe", "~",
    "* 9999999", "** 99", "range(100000)", "{% set y = answers.x ~ answers.x %}", "{{ y }}",
    "loop.index", "Hallo ", "\n", "{#", "#}", "{% raw %}", "{% endraw %}", "lipsum()",
])


@SETTINGS
@given(st.lists(TEMPLATE_PIECES, max_size=30).map("".join))
def test_any_template_source_is_a_problem_or_renders_within_bounds(source: str) -> None:
    data = {
        "id": "w", "title": "W", "initial": "a",
        "states": [{"id": "a", "label": "A", "final": True}], "transitions": [],
        "notifications": [{"on": "a", "to": "applicant", "template": "t"}],
        "templates": {"t": {"subject": "S", "body": source, "html": source}},
    }
    if [p for p in check_workflow(data) if p.severity == "error"]:
        return
    workflow = load_workflow(data)
    try:
        rendered = render_template(workflow, "t", language="de", submission={},
                                   answers={"x": "<b>" + "x" * 2000})
    except TemplateFailed:
        return
    assert "<b>" not in rendered.html
    assert len(rendered.text) <= 100_000
