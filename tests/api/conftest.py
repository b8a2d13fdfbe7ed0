"""Fixtures for the JSON API tests (helpers and definitions live in ``support.api``).

Every test gets its own app (``create_app``) over a fresh SQLite file in ``tmp_path``, or —
in modules marked ``BOTH_BACKENDS`` — also over a fresh PostgreSQL schema (dropped after the
test). Definitions are imported and users and API tokens created through the services.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.services import create_api_token, create_user
from support.api import (
    STAFF,
    Api,
    make_app,
    publish_everything,
)
from support.postgres import fresh_schema_url
from web.db import get_db


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with fresh_schema_url("ff_api") as url:
        yield url


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` unless a module parametrizes it (``BOTH_BACKENDS``)."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'data' / 'formflow.sqlite3'}"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("FORMFLOW_") and name != "FORMFLOW_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)


@pytest.fixture
def api_config() -> dict[str, Any]:
    """Extra app config for one test (override this fixture or update it in the test)."""
    return {}


@pytest.fixture
def api(
    clean_env: None, tmp_path: Path, database_url: str, api_config: dict[str, Any]
) -> Iterator[Api]:
    (tmp_path / "data").mkdir(exist_ok=True)
    app = make_app(tmp_path / "instance", database_url, **api_config)
    db = get_db(app)
    publish_everything(db)
    tokens = {}
    for role, (email, roles) in STAFF.items():
        create_user(db, email, roles)
        tokens[role], _ = create_api_token(db, email)
    yield Api(app, app.test_client(), db, tokens)
    db.dispose()


