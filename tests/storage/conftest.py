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

import pytest

from engine.services import Database
from support.storage import publish_test_definitions


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every storage test runs on both (``database_url`` of ``tests/conftest.py`` follows)."""
    return str(request.param)


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
