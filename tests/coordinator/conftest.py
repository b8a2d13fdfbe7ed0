"""Fixtures for the coordinator tests: a real app on a real SQLite file, real users.

Each test gets its own instance folder and database (migrated with Alembic, definitions
published through the services), and helpers that sign in through the real login form —
CSRF token and all — so nothing of ours is mocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from engine.storage import Database
from support.coordinator import (
    ADMIN,
    COORDINATOR,
    FORM,
    OTHER_COORDINATOR,
    PASSWORD,
    TREASURER,
    WORKFLOW,
    Staff,
)
from support.signin import staff_app
from web.db import get_db


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    users = [(COORDINATOR, ["coordinator"]), (OTHER_COORDINATOR, ["coordinator"]),
             (ADMIN, ["admin"]), (TREASURER, ["treasurer"])]
    app = staff_app(tmp_path, monkeypatch, workflow=WORKFLOW, form=FORM, password=PASSWORD,
                    users=users)
    yield app
    get_db(app).dispose()


@pytest.fixture
def db(app: Flask) -> Database:
    return get_db(app)


@pytest.fixture
def staff(app: Flask) -> Staff:
    return Staff(app)
