"""Workflow definitions: check raw JSON, load it into the frozen model, and fire transitions.

A workflow definition is refused as a whole when it breaks the published JSON Schema or any
semantic rule of DEFINITIONS §3, and every problem is reported at once with a JSON pointer, so
an administrator fixes a file in one round instead of one error per attempt. Firing lives in
``engine.machine`` and is re-exported here, so callers need only this module.
"""

from __future__ import annotations

import copy
import json
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from typing import Any, cast

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import extend

from engine.exceptions import DefinitionError
from engine.machine import (
    CompiledWorkflow,
    TransitionOutcome,
    available_transitions,
    bind_guards,
    check_guards_against_form,
    compile_workflow,
    fire,
    notifications_on_entering,
)
from engine.model import Notification, State, Template, Transition, WorkflowDefinition
from engine.problems import Problem, errors_only, pointer_join
from engine.schema import load_schema
from engine.text import to_text

__all__ = [
    "CompiledWorkflow",
    "TransitionOutcome",
    "available_transitions",
    "bind_guards",
    "check_guards_against_form",
    "check_workflow",
    "compile_workflow",
    "fire",
    "load_workflow",
    "notifications_on_entering",
    "workflow_schema",
]

_JSON_TYPES = {
    "string": "a string", "object": "an object", "array": "a list", "boolean": "true or false",
    "integer": "a whole number", "number": "a number", "null": "null",
}
_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")
_DEPENDENCY = re.compile(r"^'(?P<dep>[^']*)' is a dependency of '(?P<prop>[^']*)'$")


def workflow_schema() -> Mapping[str, Any]:
    """The published JSON Schema (package data, read via importlib.resources)."""
    return load_schema("workflow")


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
def _validator() -> Validator:
    schema = workflow_schema()
    Draft202012Validator.check_schema(schema)
    strict = {"pattern": _whole_string_pattern}
    cls = extend(Draft202012Validator, strict)  # type: ignore[no-untyped-call]
    return cast(Validator, cls(schema))


def check_workflow(data: Any) -> list[Problem]:
    """Every schema error, semantic error and linter warning of a raw definition; never raises.

    Errors come first (schema, then semantic), warnings last. The semantic checks read the raw
    JSON defensively, so a file that already broke the schema still gets every other problem.
    """
    problems = _schema_problems(data)
    semantic = _semantic_problems(data) if isinstance(data, dict) else []
    return problems + errors_only(semantic) + [p for p in semantic if p.severity == "warning"]


def load_workflow(data: Any) -> WorkflowDefinition:
    """The frozen definition; raises ``DefinitionError`` with every error (warnings don't stop).

    ``"*"`` in ``from`` is expanded to every non-final state here, so nothing downstream needs
    to know the shorthand. Guards stay raw JSON: compiling them needs the form's field types.
    """
    errors = errors_only(check_workflow(data))
    if errors:
        raise DefinitionError(errors)
    raw = copy.deepcopy(data)  # the frozen result must not share mutable parts with the caller
    states = tuple(
        State(id=s["id"], label=to_text(s["label"]), final=bool(s.get("final", False)))
        for s in raw["states"]
    )
    non_final = tuple(s.id for s in states if not s.final)
    transitions = tuple(
        Transition(
            id=t["id"],
            sources=_expand_from(t["from"], non_final),
            to=t["to"],
            roles=tuple(t["roles"]),
            label=to_text(t.get("label")),
            comment=t.get("comment", "optional"),
            when=t.get("when"),
        )
        for t in raw["transitions"]
    )
    notifications = tuple(
        Notification(
            on=n["on"], to=n.get("to"), template=n.get("template"),
            webhook=n.get("webhook"), secret_env=n.get("secret_env"),
        )
        for n in raw.get("notifications", ())
    )
    templates = {
        name: Template(
            subject=to_text(t["subject"]), body=to_text(t["body"]), html=to_text(t.get("html"))
        )
        for name, t in raw.get("templates", {}).items()
    }
    return WorkflowDefinition(
        id=raw["id"], title=to_text(raw["title"]), initial=raw["initial"], states=states,
        transitions=transitions, notifications=notifications, templates=templates,
        source=copy.deepcopy(data),
    )


def _expand_from(raw: str | list[str], non_final: tuple[str, ...]) -> tuple[str, ...]:
    if raw == "*":
        return non_final
    return (raw,) if isinstance(raw, str) else tuple(raw)


# --- schema problems, worded for administrators -------------------------------------------


def _schema_problems(data: Any) -> list[Problem]:
    errors = sorted(
        _validator().iter_errors(data), key=lambda e: _path_key(e.absolute_path)
    )
    problems: list[Problem] = []
    for error in errors:
        for problem in _describe(error):
            if problem not in problems:
                problems.append(problem)
    return problems


def _path_key(path: Iterable[str | int]) -> tuple[tuple[int, int, str], ...]:
    return tuple((0, p, "") if isinstance(p, int) else (1, 0, p) for p in path)


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
        known = ", ".join(_q(k) for k in allowed if not k.startswith("$"))
        return [
            Problem(pointer_join(pointer, k), f"unknown property {_q(k)} (allowed here: {known})")
            for k in extra
        ]
    if "propertyNames" in error.absolute_schema_path:
        return [Problem(pointer_join(pointer, str(instance)), f"{_q(instance)} is not allowed as a "
                        f"name here{hint}")]
    if keyword == "required":
        missing = error.message.split("'")[1] if error.message.count("'") >= 2 else error.message
        return [Problem(pointer, f"missing required property {_q(missing)}")]
    if keyword == "dependentRequired":
        match = _DEPENDENCY.match(error.message)
        if match:
            return [Problem(pointer, f"{_q(match['prop'])} needs {_q(match['dep'])} as well")]
    if keyword == "type":
        names = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(_JSON_TYPES.get(n, n) for n in names)
        detail = f" ({description})" if description and pointer else ""
        return [Problem(pointer, f"expected {wanted}, got {_json_type(instance)}{detail}")]
    if keyword == "pattern":
        return [Problem(pointer, f"{_q(instance)} is not valid here{hint}")]
    if keyword == "enum":
        options = ", ".join(_q(v) for v in expected)
        return [Problem(pointer, f"{_q(instance)} is not one of {options}")]
    if keyword in {"minLength", "minItems", "minProperties"} and expected == 1:
        return [Problem(pointer, "must not be empty")]
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
            return [Problem(pointer, f"has {' and '.join(_q(k) for k in present)}; only one of "
                            f"them is allowed{shape}")]
        return [Problem(pointer, f"needs one of {', '.join(_q(k) for k in keys)}{shape}")]
    best = best_match(error.context) if error.context else None
    return _describe(best) if best is not None else [Problem(pointer, error.message)]


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    for name, kind in (("a string", str), ("an object", dict), ("a list", list)):
        if isinstance(value, kind):
            return name
    if isinstance(value, int | float):
        return "a number"
    return "null" if value is None else type(value).__name__


def _q(value: Any) -> str:
    """A value as JSON (what the administrator wrote), shortened for one-line messages."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


# --- semantic problems (DEFINITIONS §3), read defensively from raw JSON ---------------------


def _semantic_problems(data: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    states = _unique_ids(data.get("states"), "/states", "state", problems)
    finals = {
        sid for sid, i in states.items()
        if isinstance(data["states"][i], dict) and data["states"][i].get("final") is True
    }
    non_final = [sid for sid in states if sid not in finals]
    initial = data.get("initial")
    if _is_id(initial) and states and initial not in states:
        problems.append(Problem("/initial", f"{_q(initial)} is not a state (states: "
                                f"{', '.join(_q(s) for s in states)})"))

    _unique_ids(data.get("transitions"), "/transitions", "transition", problems)
    edges: dict[str, set[str]] = {sid: set() for sid in states}
    for index, transition in _items(data.get("transitions")):
        base = pointer_join("/transitions", index)
        target = transition.get("to")
        target_known = isinstance(target, str) and target in states
        if _is_id(target) and not target_known:
            problems.append(Problem(pointer_join(base, "to"), f"{_q(target)} is not a state"))
        for source, pointer in _sources(transition.get("from"), base, non_final):
            if source not in states:
                if _is_id(source):
                    problems.append(Problem(pointer, f"{_q(source)} is not a state"))
            elif source in finals:
                problems.append(Problem(pointer, f"{_q(source)} is a final state: no transition "
                                        "may start from it"))
            elif target_known:
                edges[source].add(cast(str, target))

    if isinstance(initial, str) and initial in states:
        reached = _reachable({initial}, edges)
        for sid, i in states.items():
            if sid not in reached:
                problems.append(Problem(pointer_join("/states", i), f"state {_q(sid)} cannot be "
                                        f"reached from the initial state {_q(initial)}"))
    reversed_edges: dict[str, set[str]] = {sid: set() for sid in states}
    for source, targets in edges.items():
        for target in targets:
            reversed_edges[target].add(source)
    can_finish = _reachable(finals, reversed_edges)
    for sid, i in states.items():
        if sid not in finals and sid not in can_finish:
            problems.append(Problem(pointer_join("/states", i), f"no final state can be reached "
                                    f"from state {_q(sid)}: submissions would stay open forever",
                                    severity="warning"))

    problems += _notification_problems(data, states)
    problems += _template_problems(data)
    return problems


def _is_id(value: Any) -> bool:
    """Only well-formed ids are looked up: the schema already refused the others."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def _items(raw: Any) -> Iterable[tuple[int, dict[str, Any]]]:
    """The (index, object) entries of a list, skipping what the schema already refused."""
    if isinstance(raw, list):
        yield from ((i, item) for i, item in enumerate(raw) if isinstance(item, dict))


def _unique_ids(raw: Any, base: str, kind: str, problems: list[Problem]) -> dict[str, int]:
    """Id → index of its first occurrence; reports every later duplicate."""
    seen: dict[str, int] = {}
    for index, item in _items(raw):
        item_id = item.get("id")
        if not isinstance(item_id, str):
            continue
        if item_id in seen:
            first = pointer_join(base, seen[item_id])
            problems.append(Problem(pointer_join(base, index, "id"),
                                    f"duplicate {kind} id {_q(item_id)} (first used at {first})"))
        else:
            seen[item_id] = index
    return seen


def _sources(raw: Any, base: str, non_final: list[str]) -> Iterable[tuple[str, str]]:
    """(state id, pointer) for each state a transition starts from; ``"*"`` expanded."""
    pointer = pointer_join(base, "from")
    if raw == "*":
        yield from ((sid, pointer) for sid in non_final)
    elif isinstance(raw, str):
        yield raw, pointer
    elif isinstance(raw, list):
        yield from ((s, pointer_join(pointer, i)) for i, s in enumerate(raw) if isinstance(s, str))


def _reachable(start: set[str], edges: Mapping[str, set[str]]) -> set[str]:
    seen = set(start)
    queue = deque(start)
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _notification_problems(data: dict[str, Any], states: Mapping[str, int]) -> list[Problem]:
    problems: list[Problem] = []
    templates = data.get("templates")
    names = set(templates) if isinstance(templates, dict) else set()
    for index, notification in _items(data.get("notifications")):
        base = pointer_join("/notifications", index)
        on = notification.get("on")
        if _is_id(on) and on not in states:
            problems.append(Problem(pointer_join(base, "on"), f"{_q(on)} is not a state "
                                    "(use a state id or \"*\")"))
        template = notification.get("template")
        if _is_id(template) and template not in names:
            known = ", ".join(_q(n) for n in sorted(names)) or "none defined"
            problems.append(Problem(pointer_join(base, "template"),
                                    f"unknown template {_q(template)} (templates: {known})"))
    used = {n.get("template") for _, n in _items(data.get("notifications"))
            if isinstance(n.get("template"), str)}
    for name in sorted(names - used):
        problems.append(Problem(pointer_join("/templates", name), f"template {_q(name)} is not "
                                "used by any notification", severity="warning"))
    return problems


def _template_problems(data: dict[str, Any]) -> list[Problem]:
    """Jinja syntax errors surface when the definition is published, not when a mail is due."""
    templates = data.get("templates")
    if not isinstance(templates, dict):
        return []
    environment = SandboxedEnvironment()
    problems: list[Problem] = []
    for name, template in templates.items():
        if not isinstance(template, dict):
            continue
        for part in ("subject", "body", "html"):
            text = template.get(part)
            variants = {"": text} if isinstance(text, str) else text
            if not isinstance(variants, dict):
                continue
            for language, source in variants.items():
                if not isinstance(source, str):
                    continue
                try:
                    environment.parse(source)
                except TemplateSyntaxError as exc:
                    pointer = pointer_join("/templates", name, part)
                    if language:
                        pointer = pointer_join(pointer, language)
                    problems.append(Problem(pointer, f"template syntax error on line "
                                            f"{exc.lineno}: {exc.message}"))
    return problems
