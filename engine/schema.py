"""The published JSON Schemas and their errors as ``JSON-pointer: message`` problems.

The schemas are package data so editors and integrators can fetch the very files the engine
checks against. jsonschema's own wording is tuned for programmers; the few messages
administrators meet most often are reworded here.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from engine.problems import Problem, pointer_join

__all__ = ["load_schema", "schema_problems", "validator"]

_ID_PATTERN = "^[a-z][a-z0-9_]{0,63}$"


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``engine/schemas/<name>.schema.json`` as a dict."""
    text = resources.files("engine").joinpath(f"schemas/{name}.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def validator(name: str) -> Draft202012Validator:
    schema = load_schema(name)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _pointer(error: ValidationError) -> str:
    return pointer_join("", *error.absolute_path)


def _message(error: ValidationError) -> str:
    kind = error.validator
    instance: Any = error.instance
    schema: Any = error.schema
    expected: Any = error.validator_value
    if kind == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else error.message
        return f"missing required property '{missing}'"
    if kind == "additionalProperties":
        extra = sorted(set(instance) - set(schema.get("properties", {})))
        return "unknown property " + ", ".join(f"'{e}'" for e in extra)
    if kind == "pattern" and expected in (_ID_PATTERN, "^[a-z][a-z0-9_-]{0,63}$"):
        return (
            f"{error.instance!r} is not a valid id: start with a lowercase letter, then "
            "lowercase letters, digits or _ (at most 64 characters)"
        )
    if kind == "anyOf":
        branches = expected
        if all(set(b) == {"required"} for b in branches):
            names = ", ".join(b["required"][0] for b in branches)
            return f"needs at least one of: {names}"
        if any(b.get("type") == "object" for b in branches if isinstance(b, dict)):
            return "must be a text: a string, or an object mapping language codes to strings"
        return "must be a number or an ISO date (YYYY-MM-DD)"
    if kind == "enum":
        allowed = ", ".join(str(v) for v in expected)
        return f"{error.instance!r} is not one of: {allowed}"
    return str(error.message)


def schema_problems(name: str, data: Any) -> list[Problem]:
    """Every schema violation of ``data``, deepest first within a location, in document order."""
    errors = sorted(validator(name).iter_errors(data), key=lambda e: list(map(str, e.path)))
    return [Problem(_pointer(e), _message(e)) for e in errors]
