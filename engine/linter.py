"""Linter warnings for forms: definitions that load but are probably not what was meant.

Besides the reachability analysis below: a text (label, title, help …) given in some of the
form's ``languages`` but empty or missing in another is a warning — applicants choosing that
language would see the default language's words instead.

The "never visible" analysis is an abstract evaluation in dependency order: for each node we
track whether *some* answers could make it visible, and for each condition which truth values
it can take. A field no answer can reach is read by conditions as empty — so a rule that only
reads unreachable fields has one fixed truth value, and its targets may be unreachable too.
The analysis over-approximates what is possible, so a warning is never a false alarm.

A rule whose condition can never hold (its field conditions contradict each other, or it reads
only fields that are never visible) and a rule whose targets are never visible are warnings
too: such a rule does nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.answers import is_empty
from engine.conditions import fields_read, holds
from engine.evaluation import compile_form
from engine.model import AllOf, AnyOf, Condition, FieldCondition, FormDefinition
from engine.problems import Problem, pointer_join
from engine.text import Text

__all__ = ["lint_form"]

_BOTH = frozenset({True, False})


def _possible(condition: Condition, reachable: Mapping[str, bool]) -> frozenset[bool]:
    """The truth values ``condition`` can take over all answers."""
    if isinstance(condition, FieldCondition):
        if reachable.get(condition.field, False):
            return _BOTH
        return frozenset({holds(condition, {})})
    if isinstance(condition, AllOf | AnyOf):
        parts = [_possible(item, reachable) for item in condition.items]
        want = isinstance(condition, AllOf)  # the value every part must have for the result
        can_want = all(want in p for p in parts)
        can_other = any((not want) in p for p in parts)
        values = set()
        if can_want:
            values.add(want)
        if can_other:
            values.add(not want)
        return frozenset(values)
    return frozenset(not v for v in _possible(condition.item, reachable))


def _never(condition: Condition) -> str | None:
    """Why ``condition`` can never hold, whatever the answers, or None: an ``any`` of nothing,
    or an ``all`` whose field conditions contradict each other (one field equal to two
    different values, empty and not empty, equal to a value and not equal to it)."""
    if isinstance(condition, AnyOf):
        reasons = [_never(item) for item in condition.items]
        if all(reasons):
            return reasons[0] if reasons else "an empty 'any' never holds"
        return None
    if not isinstance(condition, AllOf):
        return None
    for item in condition.items:
        reason = _never(item)
        if reason:
            return reason
    leaves = [item for item in condition.items if isinstance(item, FieldCondition)]
    for field_id in dict.fromkeys(leaf.field for leaf in leaves):
        ops = [(leaf.op, leaf.value) for leaf in leaves if leaf.field == field_id]
        equal = {repr(v) for op, v in ops if op == "equal_to" and not is_empty(v)
                 and not isinstance(v, list)}
        if len(equal) > 1:
            return f"'{field_id}' cannot equal {' and '.join(sorted(equal))} at once"
        if any(op == "equal_to" and ("not_equal_to", v) in ops for op, v in ops):
            return f"'{field_id}' cannot be equal and not equal to the same value"
        names = {op for op, _ in ops}
        if {"is_empty", "is_not_empty"} <= names:
            return f"'{field_id}' cannot be empty and not empty at once"
        if "is_empty" in names and equal:
            return f"'{field_id}' cannot be empty and equal to a value at once"
    return None


def lint_form(form: FormDefinition, pointers: Mapping[str, str]) -> list[Problem]:
    """Warnings for ``form``; ``pointers`` maps each step and field id to its JSON pointer."""
    warnings: list[Problem] = []
    step_index = {s.id: i for i, s in enumerate(form.steps)}
    fields = form.field_map()

    def position(node: str) -> int:
        return step_index[node] if node in step_index else step_index[fields[node].step]

    for index, rule in enumerate(form.rules):
        for target in dict.fromkeys((*rule.show, *rule.hide, *rule.require)):
            for read in sorted(fields_read(rule.when)):
                if position(read) > position(target):
                    warnings.append(Problem(
                        pointer_join("", "rules", index, "when"),
                        f"reads '{read}' on step {position(read) + 1}, after its target "
                        f"'{target}' on step {position(target) + 1}: applicants answer it later",
                        "warning",
                    ))

    compiled = compile_form(form)
    never = [_never(rule.when) for rule in form.rules]
    reachable: dict[str, bool] = {}

    def can_be(index: int) -> frozenset[bool]:
        if never[index] is not None:
            return frozenset({False})
        return _possible(form.rules[index].when, reachable)

    def visible_without(node: Any, skipped: int | None) -> bool:
        """Whether some answers show ``node``, with rule ``skipped`` left out."""
        possible = node.step is None or reachable[node.step]
        if node.show:
            possible = possible and any(True in can_be(i) for i in node.show if i != skipped)
        if node.hide:
            possible = possible and not any(
                False not in can_be(i) for i in node.hide if i != skipped)
        return possible

    nodes = {node.id: node for node in compiled.order}
    for node in compiled.order:
        reachable[node.id] = visible_without(node, None)

    for index, rule in enumerate(form.rules):
        pointer = pointer_join("", "rules", index)
        if True not in can_be(index):
            why = never[index] or "it only reads fields no answers can make visible"
            warnings.append(Problem(pointer_join(pointer, "when"),
                                    f"this condition can never hold ({why}): the rule never "
                                    "applies", "warning"))
            continue
        targets = list(dict.fromkeys((*rule.show, *rule.hide, *rule.require)))
        # a target the rule itself hides is not "already" hidden: judge it without the rule
        if targets and not any(visible_without(nodes[t], index if t in rule.hide else None)
                               for t in targets):
            named = ", ".join(f"'{t}'" for t in targets)
            warnings.append(Problem(pointer, f"its targets ({named}) can never be visible: the "
                                    "rule has no effect", "warning"))

    for step in form.steps:
        if not reachable[step.id]:
            warnings.append(Problem(pointers[step.id], f"step '{step.id}' can never be visible",
                                    "warning"))
            continue
        if not any(reachable[f.id] for f in step.fields):
            warnings.append(Problem(pointers[step.id],
                                    f"step '{step.id}' has no field that can ever be visible",
                                    "warning"))
        for f in step.fields:
            if not reachable[f.id]:
                warnings.append(Problem(
                    pointers[f.id],
                    f"field '{f.id}' can never be visible: no answers make its rules show it",
                    "warning",
                ))
    return warnings + _missing_texts(form, pointers)


def _missing_texts(form: FormDefinition, pointers: Mapping[str, str]) -> list[Problem]:
    """A warning for each text written in some listed language but empty in another."""
    texts: list[tuple[str, Text]] = [
        ("/title", form.title), ("/description", form.description),
        ("/confirmation", form.confirmation), ("/privacy_notice", form.privacy_notice),
    ]
    for step in form.steps:
        texts.append((pointer_join(pointers[step.id], "title"), step.title))
        for f in step.fields:
            base = pointers[f.id]
            for name in ("label", "help", "placeholder", "content", "pattern_message"):
                texts.append((pointer_join(base, name), getattr(f, name)))
            for index, option in enumerate(f.options):
                texts.append((pointer_join(base, "options", index, "label"), option.label))
    warnings: list[Problem] = []
    for pointer, text in texts:
        written = [lang for lang in form.languages if _filled(text.get(lang))]
        if not written:
            continue  # not written at all: nothing is missing in one language only
        empty = [lang for lang in form.languages if lang not in written]
        if empty:
            warnings.append(Problem(
                pointer, f"empty in {', '.join(repr(lang) for lang in empty)}, a language the "
                "form lists: applicants reading it see another language's text", "warning"))
    return warnings


def _filled(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())
