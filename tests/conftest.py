"""Shared fixtures, Flask-tutorial style: every test gets its own app, client and CLI runner.

- ``backend``: ``sqlite`` unless a test or module parametrizes it (``pytestmark =
  BOTH_BACKENDS`` from ``support.postgres``, or a folder's own ``backend`` fixture);
- ``database_url``: a fresh SQLite file in the test's folder, or a fresh PostgreSQL schema
  (dropped after the test); a folder whose tests all start from the same migrated database
  with definitions and users fills it from ``database_templates`` (built once per session);
- ``app_config``: what ``create_app`` is given; a folder or module overrides it (taking the
  parent's ``app_config`` as argument) to add its settings;
- ``app``: ``create_app(app_config)``, unaffected by the caller's ``FORMFLOW_*`` variables;
  a folder whose tests need definitions or users overrides it the same way and sets them up
  through ``engine.services``;
- ``db``: the app's database; ``client`` and ``runner``: its test client and CLI runner.

Keep this file to fixtures many test folders need; fixtures for one folder live in its
``conftest.py``, for one module in that module, and plain helpers in ``tests/support/``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from engine.storage import Database
from support.databases import DatabaseTemplates
from support.postgres import fresh_schema_url
from web import create_app
from web.db import get_db

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's ``FORMFLOW_*`` variables removed (the test PostgreSQL's URL stays)."""
    for name in list(os.environ):
        if name.startswith("FORMFLOW_") and name != "FORMFLOW_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)


@pytest.fixture
def instance_path(tmp_path: Path) -> Path:
    """A fresh, empty instance folder (mail files and the secret key go here)."""
    return tmp_path / "instance"


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` unless parametrized indirectly (``BOTH_BACKENDS``)."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections live in a brand-new, empty schema (dropped after the test)."""
    with fresh_schema_url() as url:
        yield url


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of ``backend`` (schema not created yet); SQLite's file sits in
    ``<tmp_path>/data/``."""
    if backend == "postgresql":
        return str(request.getfixturevalue("postgres_schema_url"))
    (tmp_path / "data").mkdir(exist_ok=True)
    return f"sqlite:///{tmp_path / 'data' / 'formflow.sqlite3'}"


@pytest.fixture(scope="session")
def database_templates(tmp_path_factory: pytest.TempPathFactory) -> DatabaseTemplates:
    """Databases built once per session and copied into a test's ``database_url``."""
    return DatabaseTemplates(tmp_path_factory.mktemp("templates"))


@pytest.fixture
def app_config(instance_path: Path, database_url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(instance_path),
        "DATABASE_URL": database_url,
        "RATELIMIT_STORAGE_URI": "memory://",
    }


@pytest.fixture
def app(clean_env: None, app_config: dict[str, Any]) -> Iterator[Flask]:
    """A testing app on its own instance folder and database; its connections closed after."""
    app = create_app(app_config)
    yield app
    get_db(app).dispose()


@pytest.fixture
def db(app: Flask) -> Database:
    """The app's database (not migrated here: ``db.upgrade()`` or a folder's ``app`` does)."""
    return get_db(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Invokes ``formflow`` commands against ``app``: ``runner.invoke(main, [...])`` or
    ``runner.invoke(args=[...])`` for the commands registered on ``app.cli``."""
    return app.test_cli_runner()
