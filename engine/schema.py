"""The published JSON Schemas and their errors as ``JSON-pointer: message`` problems.

The schemas are package data so editors and integrators can fetch the very files the engine
checks against. jsonschema's own wording is tuned for programmers; errors are reworded here
for administrators, once for forms and workflows alike.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any, cast

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import extend

from engine.problems import Problem, pointer_join

__all__ = ["REWORDED_KEYWORDS", "load_schema", "quote", "schema_problems", "validator"]

_DEPENDENCY = re.compile(r"^'(?P<dep>[^']*)' is a dependency of '(?P<prop>[^']*)'$")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``engine/schemas/<name>.schema.json`` as a dict."""
    text = resources.files("engine").joinpath(f"schemas/{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


_JSON_TYPES = {
    "string": "a string", "object": "an object", "array": "a list", "boolean": "true or false",
    "integer": "a whole number", "number": "a number", "null": "null",
}


def _whole_string_pattern(
    validator: Validator, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[ValidationError]:
    """``pattern`` as JSON Schema means it: Python's ``$`` also matches before a final newline,
    which would let ``"review\\n"`` pass as an id."""
    if not isinstance(instance, str):
        return
    if re.search(pattern, instance) is None or (pattern.endswith("$") and instance.endswith("\n")):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


@cache
def validator(name: str) -> Validator:
    """A validator for ``name``'s schema, with ``pattern`` matching whole strings."""
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    strict = {"pattern": _whole_string_pattern}
    cls = extend(Draft202012Validator, strict)  # type: ignore[no-untyped-call]
    return cast(Validator, cls(schema))


def schema_problems(name: str, data: Any) -> list[Problem]:
    """Every violation of schema ``name`` by ``data``, in document order, reworded."""
    errors = sorted(
        validator(name).iter_errors(data), key=lambda e: _path_key(e.absolute_path)
    )
    problems: list[Problem] = []
    for error in errors:
        for problem in _describe(error):
            if problem not in problems:
                problems.append(problem)
    return problems


def _path_key(path: Iterable[str | int]) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in path)


# Bounds of the schemas, worded for people (``minLength``/``minItems`` of 1 say "not empty").
_LIMIT_MESSAGES: Mapping[str, str] = {
    "minimum": "must be at least {limit}",
    "maximum": "must be at most {limit}",
    "exclusiveMinimum": "must be greater than {limit}",
    "minLength": "must be at least {limit} characters long",
    "maxLength": "must be at most {limit} characters long",
    "minItems": "must list at least {limit} entries",
    "maxItems": "must list at most {limit} entries",
}
"""Every keyword the schemas use has its own wording here or in :func:`_describe`; the
editor translates each (tests/admin/test_problem_messages.py checks both)."""

REWORDED_KEYWORDS = frozenset({
    *_LIMIT_MESSAGES, "additionalProperties", "propertyNames", "required", "dependentRequired",
    "type", "pattern", "enum", "const", "uniqueItems", "oneOf", "anyOf", "minProperties",
})


def _describe(error: ValidationError) -> list[Problem]:
    """Turn one jsonschema error into problems an administrator can act on."""
    pointer = pointer_join("", *error.absolute_path)
    schema = error.schema if isinstance(error.schema, dict) else {}
    description = schema.get("description")
    hint = f": expected {description}" if description else ""
    instance = error.instance
    keyword = error.validator
    expected: Any = error.validator_value

    if keyword == "additionalProperties" and isinstance(instance, dict):
        allowed = list(schema.get("properties", {}))
        extra = [k for k in instance if k not in allowed]
        known = ", ".join(quote(k) for k in allowed if not k.startswith("$"))
        return [
            Problem(pointer_join(pointer, k), f"unknown property {quote(k)} (allowed: {known})")
            for k in extra
        ]
    if "propertyNames" in error.absolute_schema_path:
        message = f"{quote(instance)} is not allowed as a name here{hint}"
        return [Problem(pointer_join(pointer, str(instance)), message)]
    if keyword == "required":
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else error.message
        return [Problem(pointer, f"missing required property {quote(missing)}")]
    if keyword == "dependentRequired":
        match = _DEPENDENCY.match(error.message)
        if match:
            return [Problem(pointer, f"{quote(match['prop'])} needs {quote(match['dep'])} as well")]
    if keyword == "type":
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_JSON_TYPES.get(n, n) for n in names)
        detail = f" ({description})" if description and pointer else ""
        return [Problem(pointer, f"expected {wanted}, got {_json_type(instance)}{detail}")]
    if keyword == "pattern":
        return [Problem(pointer, f"{quote(instance)} is not valid here{hint}")]
    if keyword == "enum":
        options = ", ".join(quote(v) for v in expected)
        return [Problem(pointer, f"{quote(instance)} is not one of {options}")]
    if keyword in {"minLength", "minItems", "minProperties"} and expected == 1:
        return [Problem(pointer, "must not be empty")]
    if isinstance(keyword, str) and keyword in _LIMIT_MESSAGES:
        return [Problem(pointer, _LIMIT_MESSAGES[keyword].format(limit=expected))]
    if keyword == "const":
        return [Problem(pointer, f"must be {quote(expected)}")]
    if keyword == "uniqueItems":
        return [Problem(pointer, "lists the same entry twice")]
    if keyword in {"oneOf", "anyOf"}:
        return _describe_alternatives(error, pointer, description)
    return [Problem(pointer, error.message)]


def _describe_alternatives(
    error: ValidationError, pointer: str, description: str | None
) -> list[Problem]:
    """``oneOf``/``anyOf``: name the alternatives instead of dumping the sub-schemas."""
    branches: Any = error.validator_value
    if not isinstance(error.instance, dict):
        return []  # the type error beside it says everything
    if all(isinstance(b, dict) and list(b) == ["required"] for b in branches):
        keys = [k for b in branches for k in b["required"]]
        present = [k for k in keys if k in error.instance]
        shape = f": it must be {description}" if description else ""
        if present:
            return [Problem(pointer, f"has {' and '.join(quote(k) for k in present)}; only one of "
                            f"them is allowed{shape}")]
        return [Problem(pointer, f"needs one of {', '.join(quote(k) for k in keys)}{shape}")]
    fitting = [
        index for index, branch in enumerate(branches)
        if isinstance(branch, dict) and _has_type(branch.get("type"), error.instance)
    ]
    if len(fitting) == 1 and error.context:
        inner = [e for e in error.context if e.relative_schema_path[0] == fitting[0]]
        return [problem for e in inner for problem in _describe(e)]
    best = best_match(error.context) if error.context else None
    return _describe(best) if best is not None else [Problem(pointer, error.message)]


_PYTHON_TYPES: Mapping[str, type | tuple[type, ...]] = {
    "string": str, "object": dict, "array": list, "boolean": bool, "null": type(None),
    "integer": int, "number": (int, float),
}


def _has_type(name: Any, value: Any) -> bool:
    """Whether ``value`` has the JSON type ``name`` (a branch without a type fits nothing)."""
    if not isinstance(name, str) or name not in _PYTHON_TYPES:
        return False
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    return isinstance(value, _PYTHON_TYPES[name])


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    for name, kind in (("a string", str), ("an object", dict), ("a list", list)):
        if isinstance(value, kind):
            return name
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else type(value).__name__


def quote(value: Any) -> str:
    """A value as JSON (what the administrator wrote), shortened for one-line messages."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"
