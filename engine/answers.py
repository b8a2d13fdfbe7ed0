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
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from engine.files import KNOWN_TYPES, is_file_ref
from engine.model import TEXT_TYPES, Answer, Field
from engine.patterns import compile_pattern, pattern_problem
from engine.text import forbidden_character, normalize_newlines

__all__ = [
    "NUMBER_LIMIT", "Check", "Conversion", "Converter", "FieldError", "check", "convert",
    "converter", "has_limits", "is_email", "is_empty", "limits_check", "stored_empty",
]

NUMBER_LIMIT = 10**15
"""Numbers are answered below this in absolute value (at most 15 digits before the decimal
point): exact as a 64-bit float and a 64-bit integer alike, so every database keeps them as
given, and far beyond anything a form asks for."""
MAX_EMAIL_LENGTH = 254
MAX_EMAIL_LOCAL_LENGTH = 64

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
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
    if f.type in ("checkboxes", "group", "file"):
        return []
    return None


def is_email(text: str) -> bool:
    """Whether ``text`` is an e-mail address: the lengths first (RFC 5321), then the syntax by
    ``email-validator`` (linear in the length; no DNS lookup)."""
    local, at, _ = text.rpartition("@")
    if not at or len(text) > MAX_EMAIL_LENGTH or len(local) > MAX_EMAIL_LOCAL_LENGTH:
        return False
    try:
        validate_email(text, check_deliverability=False)
    except EmailNotValidError:
        return False
    return True


def _is_web_address(text: str) -> bool:
    if any(c.isspace() for c in text):
        return False
    try:
        parts = urlsplit(text)
        return parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. a malformed IPv6 host: "http://[x"
        return False


Conversion = tuple[Answer, FieldError | None]
Converter = Callable[[Any], Conversion]
"""One field's conversion, its options bound in (``converter``)."""


def _convert_paragraph(raw: Any) -> Conversion:
    return None, None


def _convert_checkbox(raw: Any) -> Conversion:
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


@lru_cache(maxsize=256)
def _checkboxes(options: tuple[str, ...]) -> Converter:
    allowed = frozenset(options)

    def convert_checkboxes(raw: Any) -> Conversion:
        if raw is None or raw == "":
            return [], None
        items = [raw] if isinstance(raw, str) else raw
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            return [], FieldError("not_an_option")
        chosen = set(items)
        if not chosen <= allowed:
            return [], FieldError("not_an_option")
        return [v for v in options if v in chosen], None

    return convert_checkboxes


def _convert_number(raw: Any) -> Conversion:
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
        if abs(raw) >= NUMBER_LIMIT:
            return None, FieldError("number_too_large", {"limit": NUMBER_LIMIT})
        return raw, None
    elif isinstance(raw, float):
        number = raw
    else:
        return None, FieldError("not_a_number")
    if math.isnan(number):
        return None, FieldError("not_a_number")
    if not abs(number) < NUMBER_LIMIT:  # also the infinities: "1e400" is too large, too
        return None, FieldError("number_too_large", {"limit": NUMBER_LIMIT})
    return (int(number) if number.is_integer() else number), None


def _convert_date(raw: Any) -> Conversion:
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


@lru_cache(maxsize=256)
def _choice(options: frozenset[str]) -> Converter:
    def convert_choice(raw: Any) -> Conversion:
        if isinstance(raw, str):
            if not raw.strip():
                return None, None
        elif isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < NUMBER_LIMIT:
            raw = str(raw)
        elif raw is None:
            return None, None
        else:
            return None, FieldError("not_an_option")
        if raw in options:
            return raw, None
        return None, FieldError("not_an_option")

    return convert_choice


def _convert_files(raw: Any) -> Conversion:
    """A file answer: references the server wrote when it stored the files (engine.files)."""
    if raw is None or raw == "" or raw == []:
        return [], None
    if isinstance(raw, list) and all(is_file_ref(item) for item in raw):
        return [dict(item) for item in raw], None
    return [], FieldError("not_a_file")


def _convert_text(raw: Any) -> Conversion:
    if isinstance(raw, str):
        if forbidden_character(raw) is not None:
            return None, FieldError("invalid_characters")
        text = normalize_newlines(raw).strip()
        return (text or None), None
    if raw is None:
        return None, None
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        return None, FieldError("not_text")
    if not (abs(raw) < NUMBER_LIMIT):  # also NaN and the infinities
        return None, FieldError("not_text")
    return str(raw), None


_CONVERTERS: Mapping[str, Converter] = {
    **dict.fromkeys(TEXT_TYPES, _convert_text),
    "number": _convert_number,
    "date": _convert_date,
    "checkbox": _convert_checkbox,
    "paragraph": _convert_paragraph,
    "calculated": _convert_paragraph,  # computed by the evaluation, never taken from a client
    "group": lambda raw: (raw if isinstance(raw, list) else [], None),  # evaluation converts rows
    "file": _convert_files,
}
"""Field type → its converter, for the types whose conversion does not depend on the field."""


def converter(f: Field) -> Converter:
    """``convert`` for this field, looked up once per definition. Fields with the same options
    share one converter, so a form's evaluation touches few distinct objects per field."""
    if f.type in ("select", "radio"):
        return _choice(f.option_set)
    if f.type == "checkboxes":
        return _checkboxes(f.option_values())
    return _CONVERTERS[f.type]


def convert(f: Field, raw: Any) -> Conversion:
    """Typed answer for ``raw`` (``None``/``False``/``[]`` when empty), or an error code."""
    return converter(f)(raw)


def has_limits(f: Field) -> bool:
    """Whether ``check`` can find anything wrong with a typed answer of this field."""
    if f.type in TEXT_TYPES:
        return True  # every text field has a length cap (``Field.length_limit``)
    if f.type in ("number", "date"):
        return f.min is not None or f.max is not None or bool(f.step_size)
    if f.type == "checkboxes":
        return f.min_selected is not None or f.max_selected is not None
    return f.type == "file"


Check = Callable[[Answer], list[FieldError]]
"""One field's limits applied to a typed, non-empty answer (``limits_check``)."""


@lru_cache(maxsize=1024)
def _text_limits(
    kind: str, min_length: int | None, max_length: int | None, pattern: str | None
) -> Check:
    # A pattern outside the allowed subset only reaches here in a version stored before the
    # subset was enforced: it is ignored (loading warns about it), not matched.
    matcher = None if pattern is None or pattern_problem(pattern) else compile_pattern(pattern)

    def check_text(value: Answer) -> list[FieldError]:
        errors: list[FieldError] = []
        if not isinstance(value, str):
            return errors
        length = len(value)
        if min_length is not None and length < min_length:
            errors.append(FieldError("min_length", {"min_length": min_length, "length": length}))
        if max_length is not None and length > max_length:
            errors.append(FieldError("max_length", {"max_length": max_length, "length": length}))
        if kind == "email" and not is_email(value):
            errors.append(FieldError("invalid_email"))
        if kind == "url" and not _is_web_address(value):
            errors.append(FieldError("invalid_url"))
        if kind == "tel" and (not _TEL.match(value) or sum(c.isdigit() for c in value) < 3):
            errors.append(FieldError("invalid_tel"))
        if matcher is not None and not matcher(value):
            errors.append(FieldError("pattern"))
        return errors

    return check_text


@lru_cache(maxsize=1024, typed=True)
def _number_limits(
    low: int | float | str | None, high: int | float | str | None, step: int | float | None
) -> Check:
    low_f = None if low is None else float(low)
    high_f = None if high is None else float(high)
    base = 0.0 if low_f is None else low_f

    def check_number(value: Answer) -> list[FieldError]:
        errors: list[FieldError] = []
        if not isinstance(value, (int, float)):
            return errors
        if low_f is not None and value < low_f:
            errors.append(FieldError("min", {"min": low}))
        if high_f is not None and value > high_f:
            errors.append(FieldError("max", {"max": high}))
        if step:
            ratio = (value - base) / step
            if abs(ratio - round(ratio)) > 1e-9:
                errors.append(FieldError("step", {"step": step}))
        return errors

    return check_number


@lru_cache(maxsize=1024)
def _date_limits(low: str | None, high: str | None) -> Check:
    def check_date(value: Answer) -> list[FieldError]:
        errors: list[FieldError] = []
        if not isinstance(value, str):
            return errors
        if low is not None and value < low:
            errors.append(FieldError("date_min", {"min": low}))
        if high is not None and value > high:
            errors.append(FieldError("date_max", {"max": high}))
        return errors

    return check_date


@lru_cache(maxsize=1024)
def _checkboxes_limits(low: int | None, high: int | None) -> Check:
    def check_checkboxes(value: Answer) -> list[FieldError]:
        errors: list[FieldError] = []
        if not isinstance(value, list):
            return errors
        if low is not None and len(value) < low:
            errors.append(FieldError("min_selected", {"min_selected": low}))
        if high is not None and len(value) > high:
            errors.append(FieldError("max_selected", {"max_selected": high}))
        return errors

    return check_checkboxes


@lru_cache(maxsize=256)
def _file_limits(accept: tuple[str, ...], max_size: int | None, max_files: int) -> Check:
    def check_files(value: Answer) -> list[FieldError]:
        errors: list[FieldError] = []
        if not isinstance(value, list):
            return errors
        if len(value) > max_files:
            errors.append(FieldError("too_many_files", {"max_files": max_files}))
        allowed = accept or KNOWN_TYPES
        for ref in value:
            if not isinstance(ref, dict):
                continue
            if ref.get("type") not in allowed:
                errors.append(FieldError("file_type", {"name": ref.get("name", "")}))
            if max_size is not None and int(ref.get("size", 0)) > max_size:
                errors.append(FieldError("file_too_large", {
                    "name": ref.get("name", ""), "max_size": _megabytes(max_size)}))
        return errors

    return check_files


def _megabytes(size: int) -> int | float:
    """A size limit in megabytes as people read it: ``2``, ``0.5`` (the message says MB)."""
    megabytes = size / 1_000_000
    return int(megabytes) if megabytes.is_integer() else megabytes


def limits_check(f: Field) -> Check | None:
    """``check`` for this field with its limits bound in, built once per definition; ``None``
    when it has no limits (``has_limits``), so evaluation skips the call. Fields with the same
    limits share one check."""
    if not has_limits(f):
        return None
    if f.type in TEXT_TYPES:
        return _text_limits(f.type, f.min_length, f.length_limit, f.pattern)
    if f.type == "number":
        return _number_limits(f.min, f.max, f.step_size)
    if f.type == "date":
        return _date_limits(
            f.min if isinstance(f.min, str) else None, f.max if isinstance(f.max, str) else None
        )
    if f.type == "file":
        return _file_limits(f.accept, f.max_size, f.max_files)
    return _checkboxes_limits(f.min_selected, f.max_selected)


def check(f: Field, value: Answer) -> list[FieldError]:
    """The field's limits applied to a typed, non-empty answer."""
    test = limits_check(f)
    return [] if test is None else test(value)
