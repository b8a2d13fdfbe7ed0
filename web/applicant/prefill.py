"""Answers given in the form's link: ``/f/<form>?<field>=<value>`` (fields with ``"prefill":
true`` only).

An association links to its form from an event page or a mail with what it already knows
(``/f/registration?event=sommerfest``). Each value is checked like any answer — converted and
held against the field's limits by the engine — before it is kept; a value the field would
refuse is left out and the next page says so, so nothing unchecked reaches a draft. Values for
fields without ``prefill`` and other parameters (``lang``) are not answers and are ignored.

Until the applicant's first step is saved, the accepted values wait in the session cookie (a
link opened by a crawler stores nothing on the server); they fill only answers still empty, so
a link never overwrites what the applicant typed. The first saved step stores them in the draft
with everything else and the session forgets them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import session
from werkzeug.datastructures import MultiDict

from engine.answers import check, convert
from engine.model import FormDefinition
from engine.text import forbidden_character

__all__ = ["MAX_PREFILL_CHARACTERS", "fill_empty", "forget", "read_link", "remember", "waiting"]

PREFILL = "prefill"
MAX_PREFILL_CHARACTERS = 2000
"""All values of one link together: the session cookie must stay far below 4 KB."""

_YES = frozenset({"1", "true", "on", "yes", "ja"})
_NO = frozenset({"0", "false", "off", "no", "nein"})


def read_link(form: FormDefinition, args: MultiDict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """(the link's valid answers as a step page would post them, ids of refused fields)."""
    accepted: dict[str, Any] = {}
    refused: list[str] = []
    budget = MAX_PREFILL_CHARACTERS
    for f in form.fields():
        if not (f.is_input and f.prefill and f.id in args):
            continue
        raw: Any
        if f.type == "checkboxes":
            raw = [v for v in args.getlist(f.id) if v != ""]
        elif f.type == "checkbox":
            word = args.get(f.id, "").strip().lower()
            raw = True if word in _YES else False if word in _NO else None
        else:
            raw = args.get(f.id, "")
        texts = raw if isinstance(raw, list) else [raw] if isinstance(raw, str) else []
        size = sum(len(t) for t in texts)
        if raw is None or size > budget or any(forbidden_character(t) for t in texts):
            refused.append(f.id)
            continue
        value, error = convert(f, raw)
        if error is not None or (value not in (None, False, []) and check(f, value)):
            refused.append(f.id)
            continue
        if value in (None, []):
            continue  # an empty value fills nothing
        budget -= size
        accepted[f.id] = raw
    return accepted, refused


def remember(form_id: str, answers: Mapping[str, Any]) -> None:
    waiting_now = dict(session.get(PREFILL, {}))
    waiting_now[form_id] = {**waiting_now.get(form_id, {}), **answers}
    session[PREFILL] = waiting_now


def waiting(form_id: str) -> dict[str, Any]:
    found = session.get(PREFILL, {}).get(form_id)
    return dict(found) if isinstance(found, dict) else {}


def forget(form_id: str) -> None:
    waiting_now = dict(session.get(PREFILL, {}))
    if waiting_now.pop(form_id, None) is not None:
        session[PREFILL] = waiting_now


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value is False


def fill_empty(answers: dict[str, Any], form_id: str) -> dict[str, Any]:
    """``answers`` with the waiting link values in the answers still empty."""
    filled = dict(answers)
    for field_id, value in waiting(form_id).items():
        if _empty(filled.get(field_id)):
            filled[field_id] = value
    return filled
