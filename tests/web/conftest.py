"""Fixtures for the applicant pages: a real app on a real SQLite database with the shipped
definitions published through the services, and a small "browser" over Flask's test client.

Building the schema and importing the definitions takes a moment, so it is done once per
session into a template file that every test copies — each test still gets its own database.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from engine.services import import_definition, import_directory, publish_form
from engine.storage import Database
from support.web import SURVEY, Browser
from web import create_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database file with the schema, the shipped definitions and SURVEY published."""
    path = tmp_path_factory.mktemp("template") / "formflow.sqlite3"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    outcomes = import_directory(db, PROJECT_ROOT / "forms", PROJECT_ROOT / "workflows")
    assert all(o.ok for o in outcomes), [(o.path.name, o.problems) for o in outcomes]
    import_definition(db, SURVEY, "form")
    publish_form(db, "survey")
    db.dispose()
    return path


@pytest.fixture
def database_url(template_database: Path, tmp_path: Path) -> str:
    target = tmp_path / "formflow.sqlite3"
    shutil.copyfile(template_database, target)
    return f"sqlite:///{target}"


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """The test's database, for checking what the pages stored (through the services)."""
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def app_config(database_url: str, instance_path: Path) -> dict[str, Any]:
    """Override in a test module to change settings (rate limits, draft lifetime, …)."""
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance_path),
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": "memory://",
        "REDIS_URL": None,
    }


@pytest.fixture
def app(app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    for name in ("FORMFLOW_ENV", "FORMFLOW_SECRET_KEY", "FORMFLOW_INSTANCE",
                 "FORMFLOW_FORMS_DIR", "FORMFLOW_WORKFLOWS_DIR", "FORMFLOW_DATABASE_URL",
                 "FORMFLOW_REDIS_URL", "FORMFLOW_DRAFT_TTL_DAYS"):
        monkeypatch.delenv(name, raising=False)
    application = create_app(app_config)
    yield application
    from web.db import get_db

    get_db(application).dispose()


@pytest.fixture
def browser(app: Flask) -> Browser:
    return Browser(app.test_client())


@pytest.fixture
def other_browser(app: Flask) -> Browser:
    """A second, unrelated browser (no shared cookies)."""
    return Browser(app.test_client())


