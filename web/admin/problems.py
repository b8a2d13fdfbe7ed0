"""Problems of a definition as the editor shows them: in the page language, by label.

The engine reports each problem as an English message at a JSON pointer
(``/steps/1/fields/0/label: must not be empty``) — right for the CLI and the raw JSON view.
The builder names the place by what the person sees instead: ``Schritt ‚Adresse', Feld
‚PLZ'`` (labels taken from the draft itself), and the message in the page language where a
translation is known.

Each problem keeps ``pointer`` and ``message`` (the raw form) and gains ``where`` (the place
by label, empty for the definition as a whole) and ``text`` (the message, translated: every
message the engine can produce has its entry in ``web/admin/problem_messages.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from engine.problems import Problem
from engine.text import localize
from web.admin.problem_messages import translate_message
from web.admin.text import gettext as _
from web.admin.text import ngettext

__all__ = ["problem_summary", "readable_problems"]

def _quoted(value: str) -> str:
    return _("'%(value)s'", value=value)


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
         "text": translate_message(p.message, lambda pointer: where(pointer, data, language))}
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
