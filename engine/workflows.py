"""Workflow definitions: check raw JSON, load it into the frozen model, and fire transitions.

A workflow definition is refused as a whole when it breaks the published JSON Schema or any
semantic rule of DEFINITIONS §3, and every problem is reported at once with a JSON pointer, so
an administrator fixes a file in one round instead of one error per attempt. Firing lives in
``engine.machine`` and is re-exported here, so callers need only this module.
"""

from __future__ import annotations

import copy
import re
from collections import deque
from collections.abc import Collection, Iterable, Mapping
from typing import Any, cast

from engine.exceptions import DefinitionError
from engine.jsondata import structure_problems
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
from engine.schema import load_schema, quote, schema_problems
from engine.templating import template_text_problems
from engine.text import to_text

__all__ = [
    "CompiledWorkflow",
    "TransitionOutcome",
    "available_transitions",
    "bind_guards",
    "check_guards_against_form",
    "check_workflow",
    "check_roles_held",
    "compile_workflow",
    "fire",
    "load_workflow",
    "notifications_on_entering",
    "workflow_schema",
    "WEBHOOK_SECRET_PREFIX",
]

def workflow_schema() -> Mapping[str, Any]:
    """The published JSON Schema (package data, read via importlib.resources)."""
    return load_schema("workflow")


def check_workflow(data: Any, *, stored: bool = False) -> list[Problem]:
    """Every schema error, semantic error and linter warning of a raw definition; never raises.

    Errors come first (schema, then semantic), warnings last. The semantic checks read the raw
    JSON defensively, so a file that already broke the schema still gets every other problem.
    ``stored``: ``data`` is a version already in the database, so a template the engine has
    refused only since (one using ``safe``, say) is a warning: the workflow loads, and that
    template fails when a mail is rendered from it, naming the problem.
    """
    problems = structure_problems(data)
    if problems:
        return problems
    problems = schema_problems("workflow", data)
    semantic = _semantic_problems(data, stored) if isinstance(data, dict) else []
    return problems + errors_only(semantic) + [p for p in semantic if p.severity == "warning"]


def load_workflow(data: Any, *, stored: bool = False) -> WorkflowDefinition:
    """The frozen definition; raises ``DefinitionError`` with every error (warnings don't stop).

    ``"*"`` in ``from`` is expanded to every non-final state here, so nothing downstream needs
    to know the shorthand. Guards stay raw JSON: compiling them needs the form's field types.
    ``stored`` as for :func:`check_workflow`.
    """
    errors = errors_only(check_workflow(data, stored=stored))
    if errors:
        raise DefinitionError(errors)
    raw = copy.deepcopy(data)  # the frozen result must not share mutable parts with the caller
    states = tuple(
        State(id=s["id"], label=to_text(s["label"]), final=bool(s.get("final", False)),
              due_days=s.get("due_days"))
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


# --- semantic problems (DEFINITIONS §3), read defensively from raw JSON ---------------------


def _semantic_problems(data: dict[str, Any], stored: bool) -> list[Problem]:
    problems: list[Problem] = []
    states = _unique_ids(data.get("states"), "/states", "state", problems)
    finals = {
        sid for sid, i in states.items()
        if isinstance(data["states"][i], dict) and data["states"][i].get("final") is True
    }
    non_final = [sid for sid in states if sid not in finals]
    for sid in finals:
        if "due_days" in data["states"][states[sid]]:
            problems.append(Problem(pointer_join("/states", states[sid], "due_days"),
                                    f"{quote(sid)} is a final state: nothing is due in it"))
    waitlist = data.get("waitlist_state")
    if _is_id(waitlist) and states and waitlist not in states:
        problems.append(Problem("/waitlist_state", f"{quote(waitlist)} is not a state"))
    elif waitlist in finals:
        problems.append(Problem("/waitlist_state", f"{quote(waitlist)} is a final state: a "
                                "waiting list keeps submissions open"))
    initial = data.get("initial")
    if _is_id(initial) and states and initial not in states:
        problems.append(Problem("/initial", f"{quote(initial)} is not a state (states: "
                                f"{', '.join(quote(s) for s in states)})"))

    _unique_ids(data.get("transitions"), "/transitions", "transition", problems)
    edges: dict[str, set[str]] = {sid: set() for sid in states}
    for index, transition in _items(data.get("transitions")):
        base = pointer_join("/transitions", index)
        target = transition.get("to")
        target_known = isinstance(target, str) and target in states
        if _is_id(target) and not target_known:
            problems.append(Problem(pointer_join(base, "to"), f"{quote(target)} is not a state"))
        for source, pointer in _sources(transition.get("from"), base, non_final):
            if source not in states:
                if _is_id(source):
                    problems.append(Problem(pointer, f"{quote(source)} is not a state"))
            elif source in finals:
                problems.append(Problem(pointer, f"{quote(source)} is a final state: no transition "
                                        "may start from it"))
            elif target_known:
                edges[source].add(cast(str, target))
                if source == target and transition.get("from") != "*":
                    problems.append(Problem(pointer, f"transition {quote(transition.get('id'))} "
                                            f"goes from {quote(source)} back to itself: firing "
                                            "it changes nothing but the history",
                                            severity="warning"))

    if isinstance(initial, str) and initial in states:
        # a submission beyond a form's capacity starts on the waiting list (engine/availability)
        starts = {initial} | ({waitlist} if isinstance(waitlist, str) and waitlist in states
                             else set())
        reached = _reachable(starts, edges)
        for sid, i in states.items():
            if sid not in reached:
                problems.append(Problem(pointer_join("/states", i), f"state {quote(sid)} cannot be "
                                        f"reached from the initial state {quote(initial)}"))
    reversed_edges: dict[str, set[str]] = {sid: set() for sid in states}
    for source, targets in edges.items():
        for target in targets:
            reversed_edges[target].add(source)
    can_finish = _reachable(finals, reversed_edges)
    for sid, i in states.items():
        if sid not in finals and sid not in can_finish:
            problems.append(Problem(pointer_join("/states", i), f"no final state can be reached "
                                    f"from state {quote(sid)}: submissions would stay open forever",
                                    severity="warning"))

    problems += _notification_problems(data, states, stored)
    template_problems = _template_problems(data)
    if stored:
        template_problems = [Problem(p.pointer, p.message, "warning") for p in template_problems]
    return problems + template_problems


_ID = re.compile(r"[a-z][a-z0-9_]{0,63}")


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
            message = f"duplicate {kind} id {quote(item_id)} (first used at {first})"
            problems.append(Problem(pointer_join(base, index, "id"), message))
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


WEBHOOK_SECRET_PREFIX = "FORMFLOW_WEBHOOK_"
"""A webhook's ``secret_env`` must start so: otherwise a definition could have bodies signed
with any variable of the worker's environment (the database password, the secret key) and
its receiver could test guesses of it offline."""


def _notification_problems(
    data: dict[str, Any], states: Mapping[str, int], stored: bool
) -> list[Problem]:
    problems: list[Problem] = []
    templates = data.get("templates")
    names = set(templates) if isinstance(templates, dict) else set()
    for index, notification in _items(data.get("notifications")):
        base = pointer_join("/notifications", index)
        on = notification.get("on")
        if _is_id(on) and on not in states:
            problems.append(Problem(pointer_join(base, "on"), f"{quote(on)} is not a state "
                                    "(use a state id or \"*\")"))
        secret_env = notification.get("secret_env")
        if isinstance(secret_env, str) and not secret_env.startswith(WEBHOOK_SECRET_PREFIX):
            # A stored version from before this rule still loads; its worker refuses to sign.
            problems.append(Problem(
                pointer_join(base, "secret_env"),
                f"{quote(secret_env)} must start with {WEBHOOK_SECRET_PREFIX} (e.g. "
                f"{WEBHOOK_SECRET_PREFIX}SECRET): only such variables may hold webhook secrets",
                "warning" if stored else "error"))
        template = notification.get("template")
        if _is_id(template) and template not in names:
            known = ", ".join(quote(n) for n in sorted(names)) or "none defined"
            problems.append(Problem(pointer_join(base, "template"),
                                    f"unknown template {quote(template)} (templates: {known})"))
    used = {n.get("template") for _, n in _items(data.get("notifications"))
            if isinstance(n.get("template"), str)}
    for name in sorted(names - used):
        problems.append(Problem(pointer_join("/templates", name), f"template {quote(name)} is not "
                                "used by any notification", severity="warning"))
    return problems


def _template_problems(data: dict[str, Any]) -> list[Problem]:
    """Jinja syntax errors surface when the definition is published, not when a mail is due."""
    templates = data.get("templates")
    if not isinstance(templates, dict):
        return []
    problems: list[Problem] = []
    for name, template in templates.items():
        if not isinstance(template, dict):
            continue
        for part in ("subject", "body", "html"):
            text = template.get(part)
            variants = {"": text} if isinstance(text, str) else text
            if isinstance(variants, dict):
                sources = {k: v for k, v in variants.items() if isinstance(v, str)}
                problems += template_text_problems(name, part, sources)
    return problems


def check_roles_held(workflow: WorkflowDefinition, roles_held: Collection[str]) -> list[Problem]:
    """A warning for each transition none of whose roles anyone holds: nobody may fire it.

    ``roles_held``: the roles of the active staff accounts (the caller knows them; the
    workflow file alone does not).
    """
    warnings: list[Problem] = []
    for index, transition in enumerate(workflow.transitions):
        if not set(transition.roles) & set(roles_held):
            warnings.append(Problem(
                pointer_join("/transitions", index, "roles"),
                f"no active staff account has the role(s) "
                f"{', '.join(quote(r) for r in transition.roles)}: nobody may fire transition "
                f"{quote(transition.id)}", severity="warning"))
    return warnings
