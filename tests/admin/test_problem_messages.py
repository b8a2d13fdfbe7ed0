"""Every check message the engine can produce has a German (and English) translation in the
editor (issue 18).

The engine's source is read (``ast``) for every message a definition check can make: the
message argument of each ``Problem(...)`` and ``self.error(...)``, and what the functions that
word a problem return. Each is reduced to its *shape* — the text with ``{}`` where a value goes
(an ``x if c else y`` gives both shapes, a name the message text assigned earlier in the
function) — and must be the shape of an entry of ``web/admin/problem_messages.py``, whose msgid
the German catalogue translates. A new check without an entry fails here.
"""

from __future__ import annotations

import ast
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from engine.schema import _LIMIT_MESSAGES, REWORDED_KEYWORDS
from support.admin import Browser, form
from web.admin.problem_messages import MESSAGES, WORDS

ROOT = Path(__file__).resolve().parents[2]
ENGINE = ROOT / "engine"
HOLE = "{}"
# Functions that word a problem and hand it to a Problem elsewhere.
MESSAGE_FUNCTIONS = {"pattern_problem", "_character_message", "_group_problem"}
# Exceptions whose second argument is a message (engine/patterns.py: why a pattern is refused).
MESSAGE_EXCEPTIONS = {"_Refused"}
# Keywords whose object is keyed by property names, not by keywords.
NAMED = ("properties", "$defs", "patternProperties", "dependentRequired")
# Structural schema keywords that never produce a finding of their own.
STRUCTURAL = {"$schema", "$id", "$ref", "$defs", "title", "description", "default",
              "properties", "items", "if", "then", "else", "allOf"}


def _assigned(name: str, scope: ast.AST | None, before: int) -> ast.expr | None:
    """The value last assigned to ``name`` in ``scope`` before line ``before``."""
    if scope is None:
        return None
    found = [node for node in ast.walk(scope) if isinstance(node, ast.Assign)
             and node.lineno < before
             and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)]
    return max(found, key=lambda n: n.lineno).value if found else None


def shapes(node: ast.expr, scope: ast.AST | None, depth: int = 0) -> set[str]:
    """Every text ``node`` can make, with ``{}`` for a value known only at run time."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.JoinedStr):
        out = [""]
        for part in node.values:
            if isinstance(part, ast.Constant):
                out = [o + str(part.value) for o in out]
            elif (isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name)
                  and part.format_spec is None and part.conversion == -1):
                named = shapes(part.value, scope, depth)
                named = {HOLE} if HOLE in named else named  # a value that may be anything
                out = [o + s for o in out for s in named]
            else:
                out = [o + HOLE for o in out]
        return set(out)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return {a + b for a, b in itertools.product(shapes(node.left, scope, depth),
                                                    shapes(node.right, scope, depth))}
    if isinstance(node, ast.IfExp):
        return shapes(node.body, scope, depth) | shapes(node.orelse, scope, depth)
    if isinstance(node, ast.Name) and depth < 4:
        value = _assigned(node.id, scope, node.lineno)
        if value is not None:
            return shapes(value, scope, depth + 1)
    return {HOLE}


def engine_shapes() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted(ENGINE.rglob("*.py")):
        if "storage" in path.relative_to(ENGINE).parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)]

        def scope_of(node: ast.AST, functions: list[ast.FunctionDef] = functions) -> Any:
            around = [f for f in functions if f.lineno <= getattr(node, "lineno", 0)
                      <= (f.end_lineno or 0)]
            return max(around, key=lambda f: f.lineno) if around else None

        for node in ast.walk(tree):
            message: ast.expr | None = None
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else (
                    func.attr if isinstance(func, ast.Attribute) else "")
                if name == "Problem" and len(node.args) >= 2:
                    message = node.args[1]
                elif name == "error" and isinstance(func, ast.Attribute) and len(node.args) == 2:
                    message = node.args[1]
                elif name in MESSAGE_EXCEPTIONS and len(node.args) == 2:
                    message = node.args[1]
            elif isinstance(node, ast.Return) and node.value is not None:
                scope = scope_of(node)
                if scope is not None and scope.name in MESSAGE_FUNCTIONS:
                    message = node.value
            if message is not None:
                for shape in shapes(message, scope_of(node)):
                    found.setdefault(shape, set()).add(path.name)
    return found


def _forwarded(shape: str) -> bool:
    """A message made only of other messages (``p.message``, ``problem + ignored``)."""
    return shape.replace(HOLE, "") in ("", "; this stored version ignores the pattern")


def test_the_scan_finds_the_engine_messages() -> None:
    found = engine_shapes()
    assert len(found) > 60
    assert "operator '{}' takes no value" in found
    assert "contains a lone surrogate (U+{}) at position {}: text may not hold control " \
           "characters other than tab and line breaks, nor invalid Unicode" in found
    assert "{} is not valid here: expected {}" in found and "{} is not valid here" in found


def test_every_engine_message_has_a_catalogue_entry() -> None:
    known = {template.shape for template in MESSAGES}
    missing = sorted(f"{', '.join(sorted(files))}: {shape}"
                     for shape, files in engine_shapes().items()
                     if not _forwarded(shape) and shape not in known)
    assert missing == []


def test_every_schema_keyword_is_worded_by_the_engine() -> None:
    used: set[str] = set()
    limits: list[tuple[str, Any]] = []

    def walk(node: Any, key_is_name: bool = False) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if not key_is_name:
                    used.add(key)
                    if key in ("minProperties",):
                        limits.append((key, value))
                walk(value, key in NAMED)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for name in ("form", "workflow"):
        walk(json.loads((ENGINE / "schemas" / f"{name}.schema.json").read_text()))
    assert sorted(used - STRUCTURAL - REWORDED_KEYWORDS) == []
    assert all(value == 1 for _key, value in limits)  # only "must not be empty" is worded
    texts = {template.text for template in MESSAGES}
    assert set(_LIMIT_MESSAGES.values()) <= texts


def _descriptions() -> set[str]:
    out: set[str] = set()

    def walk(node: Any, top: bool) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "description" and isinstance(value, str):
                    if not top:
                        out.add(value)
                else:
                    walk(value, False)
        elif isinstance(node, list):
            for item in node:
                walk(item, False)

    for name in ("form", "workflow"):
        walk(json.loads((ENGINE / "schemas" / f"{name}.schema.json").read_text()), True)
    return out


def test_the_schema_descriptions_and_json_types_are_known_words() -> None:
    from engine.schema import _JSON_TYPES

    assert sorted(_descriptions() - set(WORDS)) == []
    assert set(_JSON_TYPES.values()) <= set(WORDS)


def test_every_catalogue_msgid_is_in_german() -> None:
    path = ROOT / "web" / "admin" / "translations" / "de" / "LC_MESSAGES" / "admin.po"
    with open(path, "rb") as handle:
        catalog = read_po(handle)
    german = {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}
    msgids = {t.msgid for t in MESSAGES} | set(WORDS.values())
    assert sorted(m for m in msgids if m not in german) == []
    for template in MESSAGES:  # the msgid uses exactly the template's values
        named = {n for n in template.names}
        for name in named - {"kind", "index", "id", "state", "example"}:
            assert f"%({name})s" in template.msgid, (template.text, name)


@pytest.mark.parametrize(("change", "pointer", "german"), [
    (lambda d: d["steps"][0]["fields"][0].update(min_length=5, max_length=2),
     "/steps/0/fields/0/min_length", "‚min_length' ist größer als ‚max_length'"),
    (lambda d: d["rules"].append({"when": {"field": "name", "op": "is_empty", "value": "x"},
                                  "show": ["age"]}),
     "/rules/1/when/value", "Operator ‚is_empty' nimmt keinen Wert"),
    (lambda d: d["steps"][0]["fields"][0].update(max_length="x"),
     "/steps/0/fields/0/max_length", "erwartet: eine ganze Zahl, erhalten: ein Text"),
    (lambda d: d["steps"][0]["fields"][0].update(pattern="[0-9]{5,2}"),
     "/steps/0/fields/0/pattern",
     "kein gültiges Muster: {5,2}: die erste Zahl ist größer als die zweite (an Stelle 6)"),
])
def test_messages_arrive_in_german(
    admin: Browser, change: Any, pointer: str, german: str
) -> None:
    data = form()
    change(data)
    answer = admin.post_json("/admin/forms/grant/check?lang=de", {"definition": data})
    problems = {p["pointer"]: p for p in answer.get_json()["problems"]}
    assert pointer in problems, problems
    assert problems[pointer]["text"].startswith(german), problems[pointer]
    assert problems[pointer]["message"] != problems[pointer]["text"]


def test_the_most_specific_template_wins() -> None:
    """A generic template ("must be {value}") never takes a message with its own entry."""
    from web.admin.problem_messages import template_for

    for template in MESSAGES:
        if template.names:
            continue
        message = template.text.replace("{{", "{").replace("}}", "}")
        found = template_for(message)
        assert found is not None and found[0] is template, (message, found and found[0].text)
