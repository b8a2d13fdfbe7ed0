"""Fixtures for the storage tests: every test runs against SQLite and PostgreSQL.

SQLite gets a fresh file per test. PostgreSQL (``postgresql+psycopg://postgres@127.0.0.1:5432/
test``, override with FORMFLOW_TEST_POSTGRES_URL) gets a fresh schema per test, selected
through the connection's ``search_path`` and dropped afterwards, so runs never see each
other's rows. Without a reachable server the PostgreSQL variants are skipped — unless
``CI=true``, where that is a failure.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.storage import Database
from support.postgres import fresh_schema_url
from support.storage import publish_test_definitions


@pytest.fixture
def postgres_schema_url() -> Iterator[str]:
    """A URL whose connections live in a brand-new, empty schema (dropped after the test)."""
    with fresh_schema_url() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each backend (schema not created yet)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'formflow.db'}"
    return str(request.getfixturevalue("postgres_schema_url"))


class Clock:
    """A controllable clock for the Database: tests move time instead of sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def db(database_url: str, clock: Clock) -> Iterator[Database]:
    """An upgraded, empty database on the test clock."""
    database = Database(database_url, clock=clock)
    database.upgrade()
    yield database
    database.dispose()


@pytest.fixture
def published_db(db: Database) -> Database:
    """``db`` with the test workflow ``review`` and form ``membership`` published."""
    return publish_test_definitions(db)
