"""The app's database: one :class:`engine.services.Database` per app, made from its config.

``init_app(app)`` creates it from ``app.config["DATABASE_URL"]`` (nothing connects yet) and
keeps it in ``app.extensions["formflow_db"]``; views, API and CLI get it with ``get_db()``.
A database that is locked or gone surfaces as ``StorageUnavailable``; the handler registered
here turns that into a 503 with a plain message (blueprints may register their own).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, jsonify

from engine.exceptions import StorageUnavailable
from engine.services import Database
from web.limits import set_retry_after

__all__ = ["EXTENSION_KEY", "get_db", "init_app"]

EXTENSION_KEY = "formflow_db"
RETRY_AFTER_SECONDS = 5
"""``Retry-After`` of every 503 for an unreachable or busy database (pages, API, this one)."""

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Create the app's Database and register the 503 handler (called by ``create_app``)."""
    _database(app)
    app.register_error_handler(StorageUnavailable, _storage_unavailable)


def get_db(app: Flask | None = None) -> Database:
    """The Database of ``app`` (default: the current app)."""
    return _database(app if app is not None else current_app)


def _database(app: Flask) -> Database:
    db = app.extensions.get(EXTENSION_KEY)
    if not isinstance(db, Database):
        db = app.extensions[EXTENSION_KEY] = Database(
            app.config["DATABASE_URL"],
            busy_timeout_ms=int(app.config.get("DATABASE_BUSY_TIMEOUT_MS", 10_000)),
            synchronous=str(app.config.get("SQLITE_SYNCHRONOUS", "full")),
        )
    return db


def _storage_unavailable(error: StorageUnavailable) -> Any:
    log.warning("storage unavailable: %s", error, exc_info=error.__cause__ is not None)
    response = jsonify(
        error=StorageUnavailable.code,
        message=f"The service cannot store or read data right now ({error}). "
        "Nothing was lost; please try again in a moment.",
    )
    response.status_code = 503
    return set_retry_after(response, RETRY_AFTER_SECONDS)
