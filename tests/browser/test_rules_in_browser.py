"""The shared conformance vectors (tests/rule-vectors.json) in Chromium itself.

Node runs the same vectors (tests/js/, tests/test_js_rules.py); this checks the script as the
applicant's browser runs it: served by the app (under its Content-Security-Policy) and loaded
as a classic script into a real page, so ``window.FormflowRules`` is what the step pages use.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from support.browser import PROJECT_ROOT, Shots, Watch

VECTORS = json.loads((PROJECT_ROOT / "tests" / "rule-vectors.json").read_text(encoding="utf-8"))
COMPARED = ("visible_fields", "visible_steps", "required", "invalid", "answers")

RUN_CASES = """(cases) => cases.map((c) => {
  try {
    const result = FormflowRules.evaluate(FormflowRules.compile(c.form), c.answers);
    return {name: c.name, result: JSON.parse(JSON.stringify(result))};
  } catch (error) {
    return {name: c.name, thrown: String(error && error.message)};
  }
})"""

COMPILE_INVALID = """(definitions) => definitions.map((d) => {
  try {
    FormflowRules.compile(d.form);
    return {name: d.name, thrown: null};
  } catch (error) {
    return {name: d.name, thrown: error.name, pointer: error.pointer, message: error.message};
  }
})"""


def _pointers(invalid: dict[str, Any]) -> list[str]:
    pointer = invalid["pointer"]
    return pointer if isinstance(pointer, list) else [pointer]


def _matches(actual: str, expected: list[str]) -> bool:
    """An error at the pointer, inside it, or at its parent (as tests/js/rules.test.mjs)."""
    return any(actual == p or actual.startswith(p + "/") or actual == p[: p.rfind("/")]
               for p in expected)


def _load_rules(page: Any, live_server_url: str) -> None:
    page.goto(live_server_url + "/")
    page.add_script_tag(url="/static/formflow-rules.js")
    assert page.evaluate("() => typeof FormflowRules.compile") == "function"


def test_every_case_of_the_vectors_in_chromium(
    page: Any, live_server: Any, shots: Shots, watch: Watch
) -> None:
    _load_rules(page, live_server.url)
    shots(page, "rules loaded")
    outcomes = page.evaluate(RUN_CASES, VECTORS["cases"])
    assert len(outcomes) == len(VECTORS["cases"]) >= 29
    failures = []
    for case, outcome in zip(VECTORS["cases"], outcomes, strict=True):
        if "thrown" in outcome:
            failures.append(f"{case['name']}: threw {outcome['thrown']}")
            continue
        for key in COMPARED:
            if outcome["result"][key] != case["expect"][key]:
                failures.append(f"{case['name']}: {key} = {outcome['result'][key]!r}, "
                                f"expected {case['expect'][key]!r}")
    assert failures == []
    watch.assert_clean()


def test_rule_errors_of_the_invalid_definitions_throw_in_chromium(
    page: Any, live_server: Any, shots: Shots, watch: Watch
) -> None:
    about_rules = [d for d in VECTORS["invalid_definitions"]
                   if any(p == "/rules" or p.startswith("/rules/") for p in _pointers(d))]
    assert len(about_rules) >= 2, "the vectors cover unknown operators and cycles"
    _load_rules(page, live_server.url)
    shots(page, "rules loaded")
    outcomes = page.evaluate(COMPILE_INVALID, about_rules)
    for invalid, outcome in zip(about_rules, outcomes, strict=True):
        assert outcome["thrown"] == "FormflowDefinitionError", (invalid["name"], outcome)
        assert _matches(outcome["pointer"], _pointers(invalid)), (invalid["name"], outcome)
    watch.assert_clean()


def test_the_script_is_the_one_the_step_pages_load(page: Any, live_server: Any) -> None:
    """Guards the test above against testing a file nobody serves."""
    page.goto(live_server.url + "/f/membership")
    sources = page.eval_on_selector_all("script[src]", "s => s.map((e) => e.src)")
    assert live_server.url + "/static/formflow-rules.js" in sources
    served = page.request.get(live_server.url + "/static/formflow-rules.js").text()
    assert served == (Path(PROJECT_ROOT) / "web" / "static" / "formflow-rules.js").read_text(
        encoding="utf-8")
