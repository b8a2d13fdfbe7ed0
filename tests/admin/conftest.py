"""Fixtures for the administration tests: a real app on a real SQLite file, real users.

Each test gets its own instance folder and database (migrated by Alembic), a published
workflow and form (through the services), an administrator and a coordinator.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from admin_helpers import ADMIN, COORDINATOR, FORM, PASSWORD, WORKFLOW, Browser
from flask import Flask

from engine.services import create_user, import_definition, publish_form, publish_workflow
from engine.storage import Database
from web import create_app
from web.db import get_db


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    for name in ("FORMFLOW_ENV", "FORMFLOW_SECRET_KEY", "FORMFLOW_INSTANCE",
                 "FORMFLOW_DATABASE_URL", "FORMFLOW_REDIS_URL", "FORMFLOW_FORMS_DIR",
                 "FORMFLOW_WORKFLOWS_DIR"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'formflow.db'}",
        "RATELIMIT_STORAGE_URI": "memory://",
    })
    assert "admin" in app.blueprints  # registered by create_app
    db = get_db(app)
    db.upgrade()
    import_definition(db, WORKFLOW, "workflow")
    publish_workflow(db, WORKFLOW["id"])
    import_definition(db, FORM, "form")
    publish_form(db, FORM["id"])
    create_user(db, ADMIN, ["admin"], PASSWORD)
    create_user(db, COORDINATOR, ["coordinator"], PASSWORD)
    yield app
    db.dispose()


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
