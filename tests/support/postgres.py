"""The PostgreSQL the tests run against, and a fresh schema per test.

One place for what the storage, API, coordinator and notification tests share: the server's
URL (``FORMFLOW_TEST_POSTGRES_URL``, default the machine's ``test`` database), the rule that an
unreachable server skips locally but FAILS in CI (``CI=true``), and schema isolation.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import psycopg
import pytest

__all__ = ["BOTH_BACKENDS", "POSTGRES_URL", "fresh_schema_url", "libpq_dsn", "require_postgres"]

POSTGRES_URL = os.environ.get(
    "FORMFLOW_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

BOTH_BACKENDS = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
"""``pytestmark = BOTH_BACKENDS``: the module's tests run on SQLite and on PostgreSQL (the
``backend`` fixture of ``tests/conftest.py``)."""


def libpq_dsn(url: str) -> str:
    """The SQLAlchemy URL as psycopg's own connection string."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


@cache
def _postgres_problem() -> str | None:
    try:
        with psycopg.connect(libpq_dsn(POSTGRES_URL), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL at {POSTGRES_URL} unreachable: {str(exc).strip()}"
    return None


def require_postgres() -> None:
    """Skip the test when PostgreSQL is unreachable — but fail it in CI, where it must be."""
    problem = _postgres_problem()
    if problem is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(problem)
    pytest.skip(problem)


@contextmanager
def fresh_schema_url(prefix: str = "ff_test") -> Iterator[str]:
    """A URL whose connections live in a brand-new, empty schema, dropped afterwards."""
    require_postgres()
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq_dsn(POSTGRES_URL), autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(libpq_dsn(POSTGRES_URL), autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
