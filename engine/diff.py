"""What changed between two versions of a form or workflow, in sentences an administrator reads.

A JSON diff ("/steps/2/fields/4/required: true → false") is exact but tells a person little;
the version history wants "Feld ‚phone' (Schritt ‚address'): Pflichtfeld ja → nein". So the
comparison follows the definition's own structure: steps and fields are matched by id (a field
that moved to another step is one change, not a removal plus an addition), options by value,
states and transitions by id, templates by name. Rules, notifications have no ids: they are
compared as sets (their order does not matter), and a rule whose effects stay the same while
its condition changes is reported as one changed rule.

Input is the raw JSON of two stored versions (both valid — they were stored), but nothing here
relies on that: odd shapes are compared as plain values rather than raising. German sentences
by default, English with ``language="en"``. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from engine.problems import pointer_join

__all__ = ["Change", "ChangeKind", "diff_definitions", "diff_forms", "diff_workflows"]

ChangeKind = Literal["added", "removed", "changed", "moved"]

MAX_SHOWN = 80
"""Longer texts are cut (with …) in a sentence; the versions themselves stay exportable."""


@dataclass(frozen=True, slots=True)
class Change:
    """One difference: what kind, where (a JSON pointer into the newer version, or into the
    older one for something removed), and the sentence describing it."""

    kind: ChangeKind
    pointer: str
    text: str

    def as_json(self) -> dict[str, str]:
        return {"kind": self.kind, "pointer": self.pointer, "text": self.text}


_WORDS: Mapping[str, Mapping[str, str]] = {
    "de": {
        "form": "Formular", "workflow": "Workflow", "step": "Schritt", "field": "Feld",
        "option": "Option", "rule": "Regel", "state": "Zustand", "transition": "Übergang",
        "notification": "Benachrichtigung", "template": "Vorlage",
        "added": "hinzugefügt", "removed": "entfernt", "changed": "geändert",
        "position": "Position", "yes": "ja", "no": "nein", "unset": "—",
        "options_reordered": "Reihenfolge der Optionen geändert",
        "title": "Titel", "description": "Beschreibung", "languages": "Sprachen",
        "confirmation": "Bestätigungstext", "reference_prefix": "Aktenzeichen-Präfix",
        "applicant.email": "E-Mail-Feld der antragstellenden Person",
        "applicant.name": "Namensfeld der antragstellenden Person",
        "label": "Beschriftung", "help": "Hilfetext", "placeholder": "Platzhalter",
        "content": "Inhalt", "required": "Pflichtfeld", "default": "Vorgabewert",
        "type": "Typ", "min_length": "Mindestlänge", "max_length": "Höchstlänge",
        "pattern": "Muster", "pattern_message": "Meldung bei falschem Muster",
        "counter": "Zeichenzähler", "autocomplete": "Autovervollständigung",
        "min": "Minimum", "max": "Maximum", "step_size": "Schrittweite",
        "min_selected": "Mindestauswahl", "max_selected": "Höchstauswahl",
        "initial": "Anfangszustand", "final": "Endzustand", "from": "von", "to": "nach",
        "roles": "Rollen", "comment": "Kommentar", "when": "Bedingung",
        "subject": "Betreff", "body": "Text", "html": "HTML-Text",
        "comment.required": "Pflicht", "comment.optional": "freiwillig",
        "comment.none": "keiner",
        "show": "zeige", "hide": "verberge", "require": "verlange", "if": "wenn",
        "all": "alle von", "any": "eine von", "not": "nicht",
        "every_state": "jedem Zustand", "on": "bei", "send_to": "an", "with_template":
        "mit Vorlage", "webhook": "Webhook",
        "equal_to": "gleich", "not_equal_to": "ungleich", "contains": "enthält",
        "not_contains": "enthält nicht", "starts_with": "beginnt mit",
        "ends_with": "endet mit", "greater_than": "größer als",
        "greater_or_equal": "größer oder gleich", "less_than": "kleiner als",
        "less_or_equal": "kleiner oder gleich", "one_of": "ist eines von",
        "none_of": "ist keines von", "is_empty": "ist leer", "is_not_empty": "ist nicht leer",
        "text_changed": "geändert", "any_state": "alle nicht-finalen Zustände",
        "no_changes": "keine Unterschiede", "open_quote": "‚",
    },
    "en": {
        "form": "Form", "workflow": "Workflow", "step": "Step", "field": "Field",
        "option": "Option", "rule": "Rule", "state": "State", "transition": "Transition",
        "notification": "Notification", "template": "Template",
        "added": "added", "removed": "removed", "changed": "changed",
        "position": "position", "yes": "yes", "no": "no", "unset": "—",
        "options_reordered": "order of options changed",
        "title": "title", "description": "description", "languages": "languages",
        "confirmation": "confirmation text", "reference_prefix": "reference prefix",
        "applicant.email": "applicant's email field", "applicant.name": "applicant's name field",
        "label": "label", "help": "help text", "placeholder": "placeholder",
        "content": "content", "required": "required", "default": "default",
        "type": "type", "min_length": "minimum length", "max_length": "maximum length",
        "pattern": "pattern", "pattern_message": "pattern message",
        "counter": "counter", "autocomplete": "autocomplete",
        "min": "minimum", "max": "maximum", "step_size": "step",
        "min_selected": "minimum selected", "max_selected": "maximum selected",
        "initial": "initial state", "final": "final", "from": "from", "to": "to",
        "roles": "roles", "comment": "comment", "when": "condition",
        "subject": "subject", "body": "body", "html": "HTML body",
        "comment.required": "required", "comment.optional": "optional",
        "comment.none": "none",
        "show": "show", "hide": "hide", "require": "require", "if": "if",
        "all": "all of", "any": "any of", "not": "not",
        "every_state": "every state", "on": "on", "send_to": "to", "with_template":
        "with template", "webhook": "webhook",
        "equal_to": "equals", "not_equal_to": "does not equal", "contains": "contains",
        "not_contains": "does not contain", "starts_with": "starts with",
        "ends_with": "ends with", "greater_than": "greater than",
        "greater_or_equal": "at least", "less_than": "less than",
        "less_or_equal": "at most", "one_of": "is one of",
        "none_of": "is none of", "is_empty": "is empty", "is_not_empty": "is not empty",
        "text_changed": "changed", "any_state": "every non-final state",
        "no_changes": "no differences", "open_quote": "'",
    },
}

_FORM_TEXTS = ("title", "description", "confirmation")
_FIELD_TEXTS = frozenset({"label", "help", "placeholder", "content", "pattern_message"})
_FIELD_FLAGS = frozenset({"required", "counter"})
_FIELD_ORDER = (
    "type", "label", "help", "placeholder", "content", "required", "default", "min_length",
    "max_length", "pattern", "pattern_message", "counter", "autocomplete", "min", "max",
    "step", "min_selected", "max_selected",
)


class _Writer:
    """Collects changes, phrasing them in one language."""

    def __init__(self, language: str) -> None:
        self.words = _WORDS["en" if language.startswith("en") else "de"]
        self.changes: list[Change] = []

    def w(self, key: str) -> str:
        return self.words.get(key, key)

    def quote(self, value: Any) -> str:
        text = value if isinstance(value, str) else _json(value)
        if len(text) > MAX_SHOWN:
            text = text[: MAX_SHOWN - 1] + "…"
        return f"{self.words['open_quote']}{text}'"

    def value(self, value: Any, *, flag: bool = False) -> str:
        if value is None:
            return self.w("unset")
        if isinstance(value, bool) or flag:
            return self.w("yes") if value else self.w("no")
        if isinstance(value, int | float):
            return _json(value)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return ", ".join(value) if value else self.w("unset")
        return self.quote(value)

    def add(self, kind: ChangeKind, pointer: str, text: str) -> None:
        self.changes.append(Change(kind, pointer, text))

    # -- shared comparisons -----------------------------------------------------------------

    def texts(self, subject: str, name: str, old: Any, new: Any, pointer: str) -> None:
        """Compare two texts (plain strings or language → string) language by language."""
        a, b = _text(old), _text(new)
        for language in _union(a, b):
            where = f"{self.w(name)} ({language})" if language else self.w(name)
            before, after = a.get(language), b.get(language)
            if before == after:
                continue
            target = pointer_join(pointer, name, language) if language else pointer_join(
                pointer, name)
            if before is None:
                self.add("added", target,
                         f"{subject}: {where} {self.w('added')}: {self.quote(after)}")
            elif after is None:
                self.add("removed", target, f"{subject}: {where} {self.w('removed')}")
            else:
                self.add("changed", target,
                         f"{subject}: {where} {self.quote(before)} → {self.quote(after)}")

    def scalar(
        self, subject: str, name: str, old: Any, new: Any, pointer: str, *, flag: bool = False,
        word: str | None = None,
    ) -> None:
        if _same(old, new) or (flag and bool(old) == bool(new)):
            return
        label = self.w(word or name)
        self.add("changed", pointer_join(pointer, name),
                 f"{subject}: {label} {self.value(old, flag=flag)} → "
                 f"{self.value(new, flag=flag)}")

    # -- conditions -------------------------------------------------------------------------

    def condition(self, raw: Any) -> str:
        if not isinstance(raw, Mapping):
            return self.quote(raw)
        for group in ("all", "any"):
            if group in raw and isinstance(raw[group], list):
                inner = "; ".join(self.condition(item) for item in raw[group])
                return f"{self.w(group)} ({inner})"
        if "not" in raw:
            return f"{self.w('not')} ({self.condition(raw['not'])})"
        op = str(raw.get("op", ""))
        text = f"{self.quote(raw.get('field', ''))} {self.w(op)}"
        if "value" in raw and op not in ("is_empty", "is_not_empty"):
            value = raw["value"]
            if isinstance(value, list):
                text += " " + ", ".join(self.quote(v) for v in value)
            elif isinstance(value, bool):
                text += " " + self.value(value)
            elif isinstance(value, int | float):
                text += " " + _json(value)
            else:
                text += " " + self.quote(value)
        return text


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _same(a: Any, b: Any) -> bool:
    return _json(a) == _json(b)


def _text(raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if isinstance(raw, str):
        return {"": raw}
    if isinstance(raw, Mapping):
        return {str(k): v if isinstance(v, str) else _json(v) for k, v in raw.items()}
    return {"": _json(raw)}


def _union(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Keys of both, in the order of ``a`` then the new ones of ``b``."""
    return list(a) + [k for k in b if k not in a]


def _objects(raw: Any) -> list[Mapping[str, Any]]:
    return [item for item in raw if isinstance(item, Mapping)] if isinstance(raw, list) else []


def _by_id(items: Iterable[tuple[int, Mapping[str, Any]]], key: str = "id") -> dict[
    str, tuple[int, Mapping[str, Any]]
]:
    found: dict[str, tuple[int, Mapping[str, Any]]] = {}
    for index, item in items:
        item_id = item.get(key)
        if isinstance(item_id, str) and item_id not in found:
            found[item_id] = (index, item)
    return found


def _indexed(raw: Any) -> list[tuple[int, Mapping[str, Any]]]:
    if not isinstance(raw, list):
        return []
    return [(i, item) for i, item in enumerate(raw) if isinstance(item, Mapping)]


def _relative_moves(old_ids: Sequence[str], new_ids: Sequence[str]) -> set[str]:
    """Ids that changed place among the ids both lists share: those outside a longest common
    subsequence, so moving one item reports that item, not every item it jumped over."""
    common = set(old_ids) & set(new_ids)
    before = [i for i in old_ids if i in common]
    after = [i for i in new_ids if i in common]
    if before == after:
        return set()
    # Classic LCS table; lists here are a step's fields or a field's options (small).
    rows, cols = len(before), len(after)
    table = [[0] * (cols + 1) for _ in range(rows + 1)]
    for r in range(rows - 1, -1, -1):
        for c in range(cols - 1, -1, -1):
            table[r][c] = (table[r + 1][c + 1] + 1 if before[r] == after[c]
                           else max(table[r + 1][c], table[r][c + 1]))
    kept: set[str] = set()
    r = c = 0
    while r < rows and c < cols:
        if before[r] == after[c]:
            kept.add(before[r])
            r += 1
            c += 1
        elif table[r + 1][c] >= table[r][c + 1]:
            r += 1
        else:
            c += 1
    return common - kept


# -- forms ----------------------------------------------------------------------------------


def diff_forms(old: Any, new: Any, language: str = "de") -> list[Change]:
    """Every difference between two form definitions, in reading order: the form's own
    properties, then steps, then fields, then rules."""
    out = _Writer(language)
    a = old if isinstance(old, Mapping) else {}
    b = new if isinstance(new, Mapping) else {}
    subject = out.w("form")
    for name in _FORM_TEXTS:
        out.texts(subject, name, a.get(name), b.get(name), "")
    out.scalar(subject, "languages", a.get("languages"), b.get("languages"), "")
    out.scalar(subject, "workflow", a.get("workflow", "review"), b.get("workflow", "review"), "")
    out.scalar(subject, "reference_prefix", a.get("reference_prefix"),
               b.get("reference_prefix"), "")
    for role in ("email", "name"):
        before = a.get("applicant", {}) if isinstance(a.get("applicant"), Mapping) else {}
        after = b.get("applicant", {}) if isinstance(b.get("applicant"), Mapping) else {}
        if not _same(before.get(role), after.get(role)):
            out.add("changed", pointer_join("/applicant", role),
                    f"{subject}: {out.w('applicant.' + role)} {out.value(before.get(role))} → "
                    f"{out.value(after.get(role))}")
    _diff_steps(out, a.get("steps"), b.get("steps"))
    _diff_rules(out, a.get("rules"), b.get("rules"))
    return out.changes


def _fields_of(steps: Any) -> dict[str, tuple[str, int, int, Mapping[str, Any]]]:
    """field id → (step id, step index, index in step, field)."""
    found: dict[str, tuple[str, int, int, Mapping[str, Any]]] = {}
    for s_index, step in _indexed(steps):
        for f_index, f in _indexed(step.get("fields")):
            f_id = f.get("id")
            if isinstance(f_id, str) and f_id not in found:
                found[f_id] = (str(step.get("id", "")), s_index, f_index, f)
    return found


def _diff_steps(out: _Writer, old: Any, new: Any) -> None:
    before, after = _by_id(_indexed(old)), _by_id(_indexed(new))
    step = out.w("step")
    for s_id, (index, _raw) in after.items():
        if s_id not in before:
            out.add("added", pointer_join("/steps", index),
                    f"{step} {out.quote(s_id)} {out.w('added')} "
                    f"({out.w('position')} {index + 1})")
    for s_id, (index, _raw) in before.items():
        if s_id not in after:
            out.add("removed", pointer_join("/steps", index),
                    f"{step} {out.quote(s_id)} {out.w('removed')}")
    moved = _relative_moves(list(before), list(after))
    for s_id, (index, raw) in after.items():
        if s_id not in before:
            continue
        old_index, old_raw = before[s_id]
        pointer = pointer_join("/steps", index)
        if s_id in moved and old_index != index:
            out.add("moved", pointer, f"{step} {out.quote(s_id)}: {out.w('position')} "
                                      f"{old_index + 1} → {index + 1}")
        out.texts(f"{step} {out.quote(s_id)}", "title", old_raw.get("title"), raw.get("title"),
                  pointer)
    _diff_fields(out, old, new)


def _diff_fields(out: _Writer, old_steps: Any, new_steps: Any) -> None:
    before, after = _fields_of(old_steps), _fields_of(new_steps)
    field_word, step_word = out.w("field"), out.w("step")

    def subject(f_id: str, step_id: str) -> str:
        return f"{field_word} {out.quote(f_id)} ({step_word} {out.quote(step_id)})"

    for f_id, (step_id, s_index, f_index, _raw) in after.items():
        if f_id not in before:
            out.add("added", pointer_join("/steps", s_index, "fields", f_index),
                    f"{subject(f_id, step_id)} {out.w('added')}")
    for f_id, (step_id, s_index, f_index, _raw) in before.items():
        if f_id not in after:
            out.add("removed", pointer_join("/steps", s_index, "fields", f_index),
                    f"{subject(f_id, step_id)} {out.w('removed')}")
    old_order = _step_orders(before)
    moved = {step: _relative_moves(old_order.get(step, []), order)
             for step, order in _step_orders(after).items()}
    for f_id, (step_id, s_index, f_index, raw) in after.items():
        if f_id not in before:
            continue
        old_step, _s, old_index, old_raw = before[f_id]
        pointer = pointer_join("/steps", s_index, "fields", f_index)
        if old_step != step_id:
            out.add("moved", pointer, f"{field_word} {out.quote(f_id)}: {step_word} "
                                      f"{out.quote(old_step)} → {out.quote(step_id)}")
        elif old_index != f_index and f_id in moved[step_id]:
            out.add("moved", pointer, f"{subject(f_id, step_id)}: {out.w('position')} "
                                      f"{old_index + 1} → {f_index + 1}")
        _diff_field_properties(out, subject(f_id, step_id), old_raw, raw, pointer)


def _step_orders(
    fields: Mapping[str, tuple[str, int, int, Mapping[str, Any]]]
) -> dict[str, list[str]]:
    orders: dict[str, list[tuple[int, str]]] = {}
    for f_id, (step_id, _s, index, _raw) in fields.items():
        orders.setdefault(step_id, []).append((index, f_id))
    return {step: [f for _i, f in sorted(items)] for step, items in orders.items()}


def _diff_field_properties(
    out: _Writer, subject: str, old: Mapping[str, Any], new: Mapping[str, Any], pointer: str
) -> None:
    names = [*_FIELD_ORDER, *sorted((set(old) | set(new)) - {*_FIELD_ORDER, "id", "options"})]
    for name in names:
        if name in _FIELD_TEXTS:
            out.texts(subject, name, old.get(name), new.get(name), pointer)
        elif name in _FIELD_FLAGS:
            out.scalar(subject, name, old.get(name, False), new.get(name, False), pointer,
                       flag=True)
        else:
            word = "step_size" if name == "step" else None
            out.scalar(subject, name, old.get(name), new.get(name), pointer, word=word)
    _diff_options(out, subject, old.get("options"), new.get("options"), pointer)


def _diff_options(out: _Writer, subject: str, old: Any, new: Any, pointer: str) -> None:
    before, after = _by_id(_indexed(old), "value"), _by_id(_indexed(new), "value")
    option = out.w("option")
    for value, (index, raw) in after.items():
        target = pointer_join(pointer, "options", index)
        if value not in before:
            label = _text(raw.get("label"))
            shown = f" ({out.quote(next(iter(label.values())))})" if label else ""
            out.add("added", target,
                    f"{subject}: {option} {out.quote(value)}{shown} {out.w('added')}")
        else:
            out.texts(f"{subject}: {option} {out.quote(value)}", "label",
                      before[value][1].get("label"), raw.get("label"), target)
    for value, (index, _raw) in before.items():
        if value not in after:
            out.add("removed", pointer_join(pointer, "options", index),
                    f"{subject}: {option} {out.quote(value)} {out.w('removed')}")
    if _relative_moves(list(before), list(after)):
        out.add("moved", pointer_join(pointer, "options"),
                f"{subject}: {out.w('options_reordered')}")


def _describe_rule(out: _Writer, rule: Mapping[str, Any]) -> str:
    effects = []
    for effect in ("show", "hide", "require"):
        targets = rule.get(effect)
        if isinstance(targets, list) and targets:
            effects.append(f"{out.w(effect)} " + ", ".join(out.quote(t) for t in targets))
    return f"{'; '.join(effects)} {out.w('if')} {out.condition(rule.get('when'))}"


def _diff_rules(out: _Writer, old: Any, new: Any) -> None:
    def effects(rule: Mapping[str, Any]) -> str:
        return _json({k: rule.get(k) for k in ("show", "hide", "require")})

    def describe(rule: Mapping[str, Any]) -> str:
        return _describe_rule(out, rule)

    _diff_unordered(out, "/rules", _indexed(old), _indexed(new), out.w("rule"), describe, effects)


def _diff_unordered(
    out: _Writer,
    base: str,
    old: list[tuple[int, Mapping[str, Any]]],
    new: list[tuple[int, Mapping[str, Any]]],
    noun: str,
    describe: Callable[[Mapping[str, Any]], str],
    pairing: Callable[[Mapping[str, Any]], str] | None = None,
) -> None:
    """Items without ids compared as multisets; optionally pair a removed and an added item
    with the same ``pairing`` key into one "changed"."""
    remaining = [_json(item) for _i, item in new]
    removed: list[tuple[int, Mapping[str, Any]]] = []
    for index, item in old:
        key = _json(item)
        if key in remaining:
            remaining[remaining.index(key)] = "\0matched"
        else:
            removed.append((index, item))
    added = [(index, item) for (index, item), key in zip(new, remaining, strict=True)
             if key != "\0matched"]
    if pairing is not None:
        for r_index, r_item in list(removed):
            partner = next(((i, a) for i, a in added if pairing(a) == pairing(r_item)), None)
            if partner is None:
                continue
            removed.remove((r_index, r_item))
            added.remove(partner)
            out.add("changed", pointer_join(base, partner[0]),
                    f"{noun} {out.w('changed')}: {describe(r_item)} → {describe(partner[1])}")
    for index, item in removed:
        out.add("removed", pointer_join(base, index),
                f"{noun} {out.w('removed')}: {describe(item)}")
    for index, item in added:
        out.add("added", pointer_join(base, index), f"{noun} {out.w('added')}: {describe(item)}")


# -- workflows ------------------------------------------------------------------------------


def diff_workflows(old: Any, new: Any, language: str = "de") -> list[Change]:
    """Every difference between two workflow definitions: title and initial state, states,
    transitions, notifications, templates."""
    out = _Writer(language)
    a = old if isinstance(old, Mapping) else {}
    b = new if isinstance(new, Mapping) else {}
    subject = out.w("workflow")
    out.texts(subject, "title", a.get("title"), b.get("title"), "")
    out.scalar(subject, "initial", a.get("initial"), b.get("initial"), "")
    _diff_states(out, a.get("states"), b.get("states"))
    _diff_transitions(out, a.get("transitions"), b.get("transitions"))
    _diff_unordered(out, "/notifications", _indexed(a.get("notifications")),
                    _indexed(b.get("notifications")), out.w("notification"),
                    lambda n: _describe_notification(out, n))
    _diff_templates(out, a.get("templates"), b.get("templates"))
    return out.changes


def _diff_states(out: _Writer, old: Any, new: Any) -> None:
    before, after = _by_id(_indexed(old)), _by_id(_indexed(new))
    word = out.w("state")
    for s_id, (index, _raw) in after.items():
        if s_id not in before:
            out.add("added", pointer_join("/states", index),
                    f"{word} {out.quote(s_id)} {out.w('added')}")
    for s_id, (index, _raw) in before.items():
        if s_id not in after:
            out.add("removed", pointer_join("/states", index),
                    f"{word} {out.quote(s_id)} {out.w('removed')}")
    for s_id, (index, raw) in after.items():
        if s_id not in before:
            continue
        old_raw = before[s_id][1]
        pointer = pointer_join("/states", index)
        subject = f"{word} {out.quote(s_id)}"
        out.texts(subject, "label", old_raw.get("label"), raw.get("label"), pointer)
        out.scalar(subject, "final", old_raw.get("final", False), raw.get("final", False),
                   pointer, flag=True)


def _sources(out: _Writer, raw: Any) -> str:
    if raw == "*":
        return out.w("any_state")
    if isinstance(raw, str):
        return out.quote(raw)
    if isinstance(raw, list):
        return ", ".join(out.quote(s) for s in raw)
    return out.w("unset")


def _diff_transitions(out: _Writer, old: Any, new: Any) -> None:
    before, after = _by_id(_indexed(old)), _by_id(_indexed(new))
    word = out.w("transition")
    for t_id, (index, raw) in after.items():
        if t_id not in before:
            out.add("added", pointer_join("/transitions", index),
                    f"{word} {out.quote(t_id)} ({_sources(out, raw.get('from'))} → "
                    f"{out.quote(raw.get('to', ''))}) {out.w('added')}")
    for t_id, (index, _raw) in before.items():
        if t_id not in after:
            out.add("removed", pointer_join("/transitions", index),
                    f"{word} {out.quote(t_id)} {out.w('removed')}")
    for t_id, (index, raw) in after.items():
        if t_id not in before:
            continue
        old_raw = before[t_id][1]
        pointer = pointer_join("/transitions", index)
        subject = f"{word} {out.quote(t_id)}"
        if not _same(old_raw.get("from"), raw.get("from")):
            out.add("changed", pointer_join(pointer, "from"),
                    f"{subject}: {out.w('from')} {_sources(out, old_raw.get('from'))} → "
                    f"{_sources(out, raw.get('from'))}")
        out.scalar(subject, "to", old_raw.get("to"), raw.get("to"), pointer)
        out.scalar(subject, "roles", old_raw.get("roles"), raw.get("roles"), pointer)
        before_comment = old_raw.get("comment", "optional")
        after_comment = raw.get("comment", "optional")
        if before_comment != after_comment:
            out.add("changed", pointer_join(pointer, "comment"),
                    f"{subject}: {out.w('comment')} {out.w('comment.' + str(before_comment))} → "
                    f"{out.w('comment.' + str(after_comment))}")
        out.texts(subject, "label", old_raw.get("label"), raw.get("label"), pointer)
        if not _same(old_raw.get("when"), raw.get("when")):
            def shown(value: Any) -> str:
                return out.w("unset") if value is None else out.condition(value)

            out.add("changed", pointer_join(pointer, "when"),
                    f"{subject}: {out.w('when')} {shown(old_raw.get('when'))} → "
                    f"{shown(raw.get('when'))}")


def _describe_notification(out: _Writer, raw: Mapping[str, Any]) -> str:
    on = raw.get("on")
    when = out.w("every_state") if on == "*" else out.quote(on)
    if raw.get("webhook"):
        return f"{out.w('webhook')} {out.quote(raw.get('webhook'))} {out.w('on')} {when}"
    text = f"{out.w('on')} {when} {out.w('send_to')} {out.quote(raw.get('to', ''))}"
    if raw.get("template"):
        text += f" {out.w('with_template')} {out.quote(raw.get('template'))}"
    return text


def _diff_templates(out: _Writer, old: Any, new: Any) -> None:
    before = old if isinstance(old, Mapping) else {}
    after = new if isinstance(new, Mapping) else {}
    word = out.w("template")
    for name in after:
        if name not in before:
            out.add("added", pointer_join("/templates", name),
                    f"{word} {out.quote(name)} {out.w('added')}")
    for name in before:
        if name not in after:
            out.add("removed", pointer_join("/templates", name),
                    f"{word} {out.quote(name)} {out.w('removed')}")
    for name, raw in after.items():
        if name not in before or not isinstance(raw, Mapping):
            continue
        old_raw = before[name] if isinstance(before[name], Mapping) else {}
        pointer = pointer_join("/templates", name)
        subject = f"{word} {out.quote(name)}"
        out.texts(subject, "subject", old_raw.get("subject"), raw.get("subject"), pointer)
        for part in ("body", "html"):  # long texts: say that, not what (export shows it all)
            a, b = _text(old_raw.get(part)), _text(raw.get(part))
            for language in _union(a, b):
                if a.get(language) == b.get(language):
                    continue
                where = f"{out.w(part)} ({language})" if language else out.w(part)
                kind: ChangeKind = (
                    "added" if language not in a else "removed" if language not in b
                    else "changed"
                )
                target = pointer_join(pointer, part, language) if language else pointer_join(
                    pointer, part)
                out.add(kind, target, f"{subject}: {where} {out.w(kind)}")


def diff_definitions(kind: str, old: Any, new: Any, language: str = "de") -> list[Change]:
    """``diff_forms`` or ``diff_workflows`` by ``kind`` (``"form"`` / ``"workflow"``)."""
    if kind == "form":
        return diff_forms(old, new, language)
    if kind == "workflow":
        return diff_workflows(old, new, language)
    raise ValueError(f"kind must be 'form' or 'workflow', not {kind!r}")
