"""Texts shown to people: a plain string or an object keyed by language code."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "REPLACEMENT",
    "Text",
    "forbidden_character",
    "forbidden_paths",
    "localize",
    "normalize_newlines",
    "readable",
    "to_text",
]

Text = Mapping[str, str]
"""Language code → text. A plain string in JSON becomes ``{"": text}`` (any language)."""


def to_text(raw: Any) -> Text:
    """A text from its JSON; anything else than a string or an object is no text (``{}``: the
    schema reports it, and a definition with schema errors never loads)."""
    if isinstance(raw, str):
        return {"": raw}
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): str(v) for k, v in raw.items()}


def localize(text: Text | None, language: str, default_language: str) -> str:
    """The text in ``language``, falling back to the definition's default language, then any."""
    if not text:
        return ""
    for key in (language, default_language, ""):
        if key in text:
            return text[key]
    return next(iter(text.values()))


_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
"""C0 control characters other than tab, line feed and carriage return, and lone surrogates
(UTF-16 halves that are no Unicode scalar value: they cannot be encoded as UTF-8, so a stored
one breaks every page, export and mail that shows it)."""


def forbidden_character(text: str) -> int | None:
    """The position of the first character that no text in formflow may hold, or ``None``."""
    found = _FORBIDDEN.search(text)
    return None if found is None else found.start()


_BAD_NAME = object()
"""Stands in for the value of a property whose name holds a refused character."""


def forbidden_paths(value: Any) -> list[str]:
    """JSON pointers (RFC 6901) of every text in ``value`` (a text, or JSON data: answers) that
    holds a character no text may hold, property names included (reported at the pointer of
    their value), in document order; shown with U+FFFD so the pointer itself can be printed."""
    found: list[str] = []
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, pointer = stack.pop()
        if item is _BAD_NAME:
            found.append(pointer)
            continue
        if isinstance(item, str):
            if _FORBIDDEN.search(item):
                found.append(pointer)
            continue
        if isinstance(item, dict):
            children = []
            for key, child in item.items():
                name = str(key).replace("~", "~0").replace("/", "~1")
                child_pointer = f"{pointer}/{readable(name)}"
                bad_name = _FORBIDDEN.search(str(key)) is not None
                # a refused name is reported in its place; one entry for it and its value
                children.append((_BAD_NAME if bad_name else child, child_pointer))
            stack.extend(reversed(children))
        elif isinstance(item, list):
            stack.extend(reversed([(c, f"{pointer}/{i}") for i, c in enumerate(item)]))
    return found


def normalize_newlines(text: str) -> str:
    """Line breaks as ``\\n``: browsers send ``\\r\\n`` from a textarea."""
    return text.replace("\r\n", "\n")


REPLACEMENT = "\ufffd"
"""What stands in for a character no text may hold when stored text is read out."""


def readable(value: Any) -> Any:
    """``value`` (a text, or JSON data: answers) with every character no text may hold
    replaced by U+FFFD, so that a row stored before such text was refused still shows, exports
    and mails; everything else is returned as it is. ``formflow data check --repair`` writes
    the same replacement back."""
    if isinstance(value, str):
        return _FORBIDDEN.sub(REPLACEMENT, value) if _FORBIDDEN.search(value) else value
    if isinstance(value, dict):
        return {readable(key): readable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [readable(item) for item in value]
    return value
