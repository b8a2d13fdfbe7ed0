"""Row ids in staff URLs, bounded to what the databases' integers hold.

A number beyond a 64-bit integer (``?version=99999999999999999999``) once reached SQLite,
which refused it with an overflow error: a 500. Every id the staff pages take from a URL goes
through here instead: the ``id`` URL converter (``/users/<id:user_id>``) for path parts,
:func:`id_arg` for query arguments. An id outside 1 … 2**63-1, or not plain ASCII digits, is
no id: 404, as for an id that names no row.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter, Map

__all__ = ["MAX_ID", "IdConverter", "id_arg", "init_app", "parse_id"]

MAX_ID = 2**63 - 1
"""The largest value of a signed 64-bit integer column (SQLite INTEGER, PostgreSQL BIGINT)."""


class IdConverter(IntegerConverter):
    """``<id:name>``: an integer 1 … :data:`MAX_ID`; other values match no route (404)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:  # noqa: A002 - Werkzeug's name
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def parse_id(text: str) -> int:
    """``text`` as an id; ``ValueError`` when it is not ASCII digits or out of range."""
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"not an id: {text[:40]!r}")
    value = int(text)
    if not 1 <= value <= MAX_ID:
        raise ValueError(f"not an id: {text[:40]!r}")
    return value


def id_arg(name: str) -> int | None:
    """The query argument ``name`` as an id; ``None`` when absent or empty; 404 otherwise."""
    raw = request.args.get(name, "")
    if not raw:
        return None
    try:
        return parse_id(raw)
    except ValueError:
        abort(404)


def init_app(app: Flask) -> None:
    """Register the ``id`` converter (before any blueprint whose routes use it)."""
    app.url_map.converters["id"] = IdConverter
