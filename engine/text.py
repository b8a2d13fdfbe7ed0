"""Texts shown to people: a plain string or an object keyed by language code."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["Text", "localize", "to_text"]

Text = Mapping[str, str]
"""Language code → text. A plain string in JSON becomes ``{"": text}`` (any language)."""


def to_text(raw: Any) -> Text:
    if raw is None:
        return {}
    if isinstance(raw, str):
        return {"": raw}
    return {str(k): str(v) for k, v in raw.items()}


def localize(text: Text | None, language: str, default_language: str) -> str:
    """The text in ``language``, falling back to the definition's default language, then any."""
    if not text:
        return ""
    for key in (language, default_language, ""):
        if key in text:
            return text[key]
    return next(iter(text.values()))
