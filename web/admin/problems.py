"""Problems of a definition as the editor shows them: in the page language, by label.

The engine reports each problem as an English message at a JSON pointer
(``/steps/1/fields/0/label: must not be empty``) — right for the CLI and the raw JSON view.
The builder names the place by what the person sees instead: ``Schritt ‚Adresse', Feld
‚PLZ'`` (labels taken from the draft itself), and the message in the page language where a
translation is known (the common messages below; others stay in English).

Each problem keeps ``pointer`` and ``message`` (the raw form) and gains ``where`` (the place
by label, empty for the definition as a whole) and ``text`` (the message, translated).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from engine.problems import Problem
from engine.text import localize
from web.admin.text import gettext as _
from web.admin.text import ngettext

__all__ = ["problem_summary", "readable_problems"]

# English message pattern → msgid of its translation (named groups become variables).
_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), msgid) for pattern, msgid in (
        (r"^must not be empty$", "must not be empty"),
        (r'^missing required property "(?P<name>[^"]+)"$', "%(name)s is missing"),
        (r'^unknown property "(?P<name>[^"]+)" \(allowed: (?P<allowed>.*)\)$',
         "unknown property %(name)s (allowed: %(allowed)s)"),
        (r'^"(?P<value>.*)" is not valid here: expected an id: .*$',
         "%(value)s is not a valid id: a lowercase letter, then up to 63 lowercase letters, "
         "digits or '_'"),
        (r"^id '(?P<id>[^']+)' is already used at (?P<other>/\S*) \(.*\)$",
         "the id %(id)s is used twice (also: %(other)s)"),
        (r"^'(?P<name>\w+)' does not apply to a (?P<type>\w+) field$",
         "%(name)s does not apply to a field of type %(type)s"),
        (r"^unknown field or step '(?P<id>[^']+)'$", "unknown field or step %(id)s"),
        (r"^(?:step|field) '[^']+' can never be visible.*$", "can never be visible"),
        (r"^step '[^']+' has no field that can ever be visible$",
         "has no field that can ever be visible"),
        (r"^empty in (?P<languages>.+), a language the form lists: .*$",
         "empty in %(languages)s, a language the form lists"),
        (r'^transition "[^"]+" goes from "[^"]+" back to itself: .*$',
         "goes back to the state it starts from"),
        (r"^no active staff account has the role\(s\) (?P<roles>.+): nobody may fire .*$",
         "nobody may fire it: no active staff account has the role(s) %(roles)s"),
    )
)


def _quoted(value: str) -> str:
    return _("'%(value)s'", value=value)


def _translated(message: str, data: Any, language: str) -> str:
    for pattern, msgid in _MESSAGES:
        found = pattern.match(message)
        if found is None:
            continue
        variables = dict(found.groupdict())
        if "other" in variables:
            variables["other"] = where(variables["other"], data, language) or variables["other"]
        for name in ("name", "value", "id", "type"):
            if name in variables:
                variables[name] = _quoted(variables[name])
        return _(msgid, **variables)
    return message


def _item(items: Any, index: str) -> Mapping[str, Any] | None:
    if not isinstance(items, list) or not index.isdigit() or int(index) >= len(items):
        return None
    item = items[int(index)]
    return item if isinstance(item, Mapping) else None


def _name(item: Mapping[str, Any], key: str, language: str) -> str:
    """The item's text ``key`` in ``language`` (any language as fallback), else its id."""
    text = item.get(key)
    if isinstance(text, str) and text.strip():
        return text
    if isinstance(text, Mapping):
        words = localize({k: v for k, v in text.items() if isinstance(v, str) and v.strip()},
                         language, language)
        if words:
            return words
    return str(item.get("id") or "?")


def where(pointer: str, data: Any, language: str) -> str:
    """The place ``pointer`` names in ``data``, by label: ``Schritt ‚Adresse', Feld ‚PLZ'``."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    if not parts or not isinstance(data, Mapping):
        return ""
    places: list[str] = []
    head = parts[0]
    if head == "steps" and len(parts) > 1:
        step = _item(data.get("steps"), parts[1])
        if step is None:
            return ""
        places.append(_("Step %(name)s", name=_quoted(_name(step, "title", language))))
        if len(parts) > 3 and parts[2] == "fields":
            field = _item(step.get("fields"), parts[3])
            if field is not None:
                places.append(_("field %(name)s", name=_quoted(_name(field, "label", language))))
                if len(parts) > 5 and parts[4] == "options":
                    option = _item(field.get("options"), parts[5])
                    if option is not None:
                        places.append(_("option %(name)s",
                                        name=_quoted(_name(option, "label", language))))
    elif head == "states" and len(parts) > 1:
        state = _item(data.get("states"), parts[1])
        if state is None:
            return ""
        places.append(_("State %(name)s", name=_quoted(_name(state, "label", language))))
    elif head == "transitions" and len(parts) > 1:
        transition = _item(data.get("transitions"), parts[1])
        if transition is None:
            return ""
        places.append(_("Transition %(name)s",
                        name=_quoted(_name(transition, "label", language))))
    elif head == "rules" and len(parts) > 1 and parts[1].isdigit():
        places.append(_("Rule %(number)s", number=int(parts[1]) + 1))
    elif head == "notifications" and len(parts) > 1 and parts[1].isdigit():
        places.append(_("Notification %(number)s", number=int(parts[1]) + 1))
    elif head == "templates" and len(parts) > 1:
        places.append(_("Template %(name)s", name=_quoted(parts[1])))
    else:
        return ""
    return ", ".join(places)


def readable_problems(
    problems: Sequence[Problem], data: Any, language: str
) -> list[dict[str, str]]:
    """``pointer``, ``message``, ``severity`` plus ``where`` and ``text`` for the builder."""
    return [
        {**p.as_json(), "where": where(p.pointer, data, language),
         "text": _translated(p.message, data, language)}
        for p in problems
    ]


def problem_summary(problems: Sequence[Problem]) -> str:
    """``2 Fehler, 1 Warnung`` — with the plural forms of the page language."""
    if not problems:
        return _("No problems found.")
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    return ", ".join((
        ngettext("%(num)s error", "%(num)s errors", errors),
        ngettext("%(num)s warning", "%(num)s warnings", warnings),
    ))
