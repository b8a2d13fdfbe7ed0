"""Databases prepared once per test session and copied for every test that needs them.

Migrating a database with Alembic, importing definitions and hashing passwords (argon2) takes
far longer than the tests that use the result. ``DatabaseTemplates.fill`` builds such a
database once per session (per xdist worker) into a SQLite file and copies that file to each
test's own empty database, so every test still gets a database of its own. On PostgreSQL
each test's fresh schema is built anew.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.storage import Database

__all__ = ["DatabaseTemplates"]


class DatabaseTemplates:
    """SQLite template files in ``folder``, one per name, with what their builder returned."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.results: dict[str, Any] = {}

    def fill(self, url: str, name: str, build: Callable[[Database], Any]) -> Any:
        """Give the empty database at ``url`` what ``build`` makes of an empty database, and
        return what ``build`` returned (the first time, for SQLite: kept with the template).

        ``build`` must make the same database whenever it runs for ``name``."""
        if not url.startswith("sqlite:///"):
            database = Database(url)
            try:
                return build(database)
            finally:
                database.dispose()
        template = self.folder / f"{name}.sqlite3"
        if name not in self.results:
            database = Database(f"sqlite:///{template}")
            try:
                self.results[name] = build(database)
            finally:
                database.dispose()  # the last connection closed: the WAL is in the main file
        shutil.copyfile(template, url.removeprefix("sqlite:///"))
        return self.results[name]
