"""Fixtures for the administration tests: a real app on a real SQLite file, real users.

Each test gets its own instance folder and database (migrated by Alembic), a published
workflow and form (through the services), an administrator and a coordinator.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from engine.storage import Database
from support.admin import ADMIN, COORDINATOR, FORM, PASSWORD, WORKFLOW, Browser
from support.signin import staff_app
from web.db import get_db


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    app = staff_app(tmp_path, monkeypatch, workflow=WORKFLOW, form=FORM, password=PASSWORD,
                    users=[(ADMIN, ["admin"]), (COORDINATOR, ["coordinator"])])
    assert "admin" in app.blueprints  # registered by create_app
    yield app
    get_db(app).dispose()


@pytest.fixture
def db(app: Flask) -> Database:
    return get_db(app)


@pytest.fixture
def admin(app: Flask) -> Browser:
    return Browser(app, ADMIN)


@pytest.fixture
def coordinator(app: Flask) -> Browser:
    return Browser(app, COORDINATOR)


@pytest.fixture
def anonymous(app: Flask) -> Browser:
    return Browser(app)
