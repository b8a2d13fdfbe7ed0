"""Answer conversion and validation per field type — written once for every caller.

``convert`` turns what a browser, the API or a rule value sends into the typed answer that
conditions see and storage keeps; ``check`` applies the field's limits to a typed, non-empty
answer. Both return error codes (``engine.messages`` words them), never raise for bad input.
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from engine.model import TEXT_TYPES, Answer, Field

__all__ = [
    "CONVERTERS", "Check", "Conversion", "FieldError", "check", "convert", "has_limits",
    "is_empty", "limits_check", "stored_empty",
]

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TEL = re.compile(r"^\+?[0-9 ()/.-]{3,}$")
_TRUE = frozenset({"true", "on", "1", "yes", "y"})
_FALSE = frozenset({"", "false", "0", "off", "no", "n"})


@dataclass(frozen=True, slots=True)
class FieldError:
    code: str
    params: dict[str, Any] = field(default_factory=dict)


def is_empty(value: Any) -> bool:
    """Empty means absent, ``null``, ``""``, ``[]`` or ``false`` (DEFINITIONS §1)."""
    # Every empty value is falsy, so a truthy one (most answers) is settled by one test.
    return not value and (
        value is None or value is False or value == "" or isinstance(value, list)
    )


def stored_empty(f: Field) -> Answer:
    """What storage keeps for an empty visible field of this type."""
    if f.type == "checkbox":
        return False
    if f.type == "checkboxes":
        return []
    return None


def _is_web_address(text: str) -> bool:
    if any(c.isspace() for c in text):
        return False
    try:
        parts = urlsplit(text)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. a malformed IPv6 host: "http://[x"
        return False


Conversion = tuple[Answer, FieldError | None]


def _convert_paragraph(f: Field, raw: Any) -> Conversion:
    return None, None


def _convert_checkbox(f: Field, raw: Any) -> Conversion:
    if raw is True or raw is False:
        return raw, None
    if raw is None:
        return False, None
    if isinstance(raw, str):
        word = raw.strip().lower()
        if word in _TRUE:
            return True, None
        if word in _FALSE:
            return False, None
    return False, FieldError("not_a_checkbox")


def _convert_checkboxes(f: Field, raw: Any) -> Conversion:
    if raw is None or raw == "":
        return [], None
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        return [], FieldError("not_an_option")
    chosen = set(items)
    if not chosen <= f.option_set:
        return [], FieldError("not_an_option")
    return [v for v in f.option_values() if v in chosen], None


def _convert_number(f: Field, raw: Any) -> Conversion:
    if isinstance(raw, str):
        text = raw.strip()
        if not text:
            return None, None
        if len(text) < 16 and text.isdigit() and text.isascii():
            return int(text), None  # up to 15 digits: exactly what float() then int() give
        if "," in text and "." not in text and text.count(",") == 1:
            text = text.replace(",", ".")  # German decimal comma: "17,5"
        if not _NUMBER.match(text):
            return None, FieldError("not_a_number")
        number = float(text)
    elif raw is None:
        return None, None
    elif isinstance(raw, bool):
        return None, FieldError("not_a_number")
    elif isinstance(raw, int):
        return raw, None
    elif isinstance(raw, float):
        number = raw
    else:
        return None, FieldError("not_a_number")
    if not math.isfinite(number):
        return None, FieldError("not_a_number")
    return (int(number) if number.is_integer() else number), None


def _convert_date(f: Field, raw: Any) -> Conversion:
    if isinstance(raw, str):
        day = raw.strip()
        if not day:
            return None, None
        if _ISO_DATE.match(day):
            try:
                datetime.date.fromisoformat(day)
            except ValueError:  # no such day, or digits other than ASCII ones
                pass
            else:
                return day, None  # fromisoformat took exactly YYYY-MM-DD: already the ISO form
    elif raw is None:
        return None, None
    return None, FieldError("not_a_date")


def _convert_choice(f: Field, raw: Any) -> Conversion:
    if isinstance(raw, str):
        if not raw.strip():
            return None, None
    elif isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    elif raw is None:
        return None, None
    else:
        return None, FieldError("not_an_option")
    if raw in f.option_set:
        return raw, None
    return None, FieldError("not_an_option")


def _convert_text(f: Field, raw: Any) -> Conversion:
    if isinstance(raw, str):
        text = raw.strip()
        return (text or None), None
    if raw is None:
        return None, None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None, FieldError("not_text")
    return str(raw), None


CONVERTERS: Mapping[str, Callable[[Field, Any], Conversion]] = {
    "text": _convert_text,
    "tel": _convert_text,
    "url": _convert_text,
    "email": _convert_text,
    "textarea": _convert_text,
    "number": _convert_number,
    "date": _convert_date,
    "select": _convert_choice,
    "radio": _convert_choice,
    "checkboxes": _convert_checkboxes,
    "checkbox": _convert_checkbox,
    "paragraph": _convert_paragraph,
}
"""Field type → its converter; evaluation looks each field's up once per definition."""


def convert(f: Field, raw: Any) -> Conversion:
    """Typed answer for ``raw`` (``None``/``False``/``[]`` when empty), or an error code."""
    return CONVERTERS[f.type](f, raw)


def has_limits(f: Field) -> bool:
    """Whether ``check`` can find anything wrong with a typed answer of this field."""
    if f.type in TEXT_TYPES:
        return (f.min_length is not None or f.max_length is not None or f.pattern is not None
                or f.type in ("email", "url", "tel"))
    if f.type in ("number", "date"):
        return f.min is not None or f.max is not None or bool(f.step_size)
    if f.type == "checkboxes":
        return f.min_selected is not None or f.max_selected is not None
    return False


Check = Callable[[Field, Answer], list[FieldError]]


def _check_text(f: Field, value: Answer) -> list[FieldError]:
    errors: list[FieldError] = []
    if not isinstance(value, str):
        return errors
    length = len(value)
    if f.min_length is not None and length < f.min_length:
        errors.append(FieldError("min_length", {"min_length": f.min_length, "length": length}))
    if f.max_length is not None and length > f.max_length:
        errors.append(FieldError("max_length", {"max_length": f.max_length, "length": length}))
    if f.type == "email" and not _EMAIL.match(value):
        errors.append(FieldError("invalid_email"))
    if f.type == "url" and not _is_web_address(value):
        errors.append(FieldError("invalid_url"))
    if f.type == "tel" and (not _TEL.match(value) or sum(c.isdigit() for c in value) < 3):
        errors.append(FieldError("invalid_tel"))
    if f.pattern is not None and not re.fullmatch(f.pattern, value):
        errors.append(FieldError("pattern"))
    return errors


def _check_number(f: Field, value: Answer) -> list[FieldError]:
    errors: list[FieldError] = []
    if not isinstance(value, (int, float)):
        return errors
    if f.min is not None and value < float(f.min):
        errors.append(FieldError("min", {"min": f.min}))
    if f.max is not None and value > float(f.max):
        errors.append(FieldError("max", {"max": f.max}))
    if f.step_size:
        base = float(f.min) if f.min is not None else 0.0
        ratio = (value - base) / f.step_size
        if abs(ratio - round(ratio)) > 1e-9:
            errors.append(FieldError("step", {"step": f.step_size}))
    return errors


def _check_date(f: Field, value: Answer) -> list[FieldError]:
    errors: list[FieldError] = []
    if not isinstance(value, str):
        return errors
    if isinstance(f.min, str) and value < f.min:
        errors.append(FieldError("date_min", {"min": f.min}))
    if isinstance(f.max, str) and value > f.max:
        errors.append(FieldError("date_max", {"max": f.max}))
    return errors


def _check_checkboxes(f: Field, value: Answer) -> list[FieldError]:
    errors: list[FieldError] = []
    if not isinstance(value, list):
        return errors
    if f.min_selected is not None and len(value) < f.min_selected:
        errors.append(FieldError("min_selected", {"min_selected": f.min_selected}))
    if f.max_selected is not None and len(value) > f.max_selected:
        errors.append(FieldError("max_selected", {"max_selected": f.max_selected}))
    return errors


_CHECKS: Mapping[str, Check] = {
    **dict.fromkeys(TEXT_TYPES, _check_text),
    "number": _check_number,
    "date": _check_date,
    "checkboxes": _check_checkboxes,
}
"""Field type → the checks of its limits; types not listed have none."""


def check(f: Field, value: Answer) -> list[FieldError]:
    """The field's limits applied to a typed, non-empty answer."""
    test = _CHECKS.get(f.type)
    return [] if test is None else test(f, value)


def limits_check(f: Field) -> Check | None:
    """``check`` for this field, looked up once per definition; ``None`` when it has no limits
    (``has_limits``), so evaluation skips the call."""
    return _CHECKS[f.type] if has_limits(f) else None
