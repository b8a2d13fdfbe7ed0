"""Fixtures for the applicant pages: the app of ``tests/conftest.py`` on a SQLite database with
the shipped definitions published through the services, and a small "browser" over Flask's
test client.

Building the schema and importing the definitions takes a moment, so it is done once per
session (per xdist worker) into a template file that every test copies (``database_templates``)
— each test still gets its own database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from engine.services import Database, import_definition, import_directory, publish_form
from support.databases import DatabaseTemplates
from support.web import SURVEY, Browser

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _prepare(db: Database) -> None:
    """The schema, the shipped definitions and SURVEY published."""
    db.upgrade()
    outcomes = import_directory(db, PROJECT_ROOT / "forms", PROJECT_ROOT / "workflows")
    assert all(o.ok for o in outcomes), [(o.path.name, o.problems) for o in outcomes]
    import_definition(db, SURVEY, "form")
    publish_form(db, "survey")


@pytest.fixture
def database_url(database_url: str, database_templates: DatabaseTemplates) -> str:
    database_templates.fill(database_url, "shipped", _prepare)
    return database_url


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The test's database opened a second time, as another process (the CLI) would, for
    checking what the pages stored and changing definitions (through the services)."""
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def other_browser(app: Flask) -> Browser:
    """A second, unrelated browser (no shared cookies)."""
    return Browser(app.test_client())


