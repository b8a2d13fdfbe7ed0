"""Shared fixtures, Flask-tutorial style: every test gets its own app and instance folder.

Keep this file to fixtures many test modules need; fixtures for one module live in that module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from web import create_app

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def instance_path(tmp_path: Path) -> Path:
    """A fresh, empty instance folder (SQLite file, mail files, secret key go here)."""
    return tmp_path / "instance"


@pytest.fixture
def app(instance_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flask]:
    """A testing app on its own instance folder, unaffected by the caller's FORMFLOW_* env."""
    for name in ("FORMFLOW_ENV", "FORMFLOW_SECRET_KEY", "FORMFLOW_INSTANCE",
                 "FORMFLOW_FORMS_DIR", "FORMFLOW_WORKFLOWS_DIR"):
        monkeypatch.delenv(name, raising=False)
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance_path)})
    yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    """Invokes ``formflow`` commands against ``app``: ``runner.invoke(main, [...])`` or
    ``runner.invoke(args=[...])`` for the commands registered on ``app.cli``."""
    return app.test_cli_runner()
