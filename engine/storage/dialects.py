"""The few statements whose SQL differs between SQLite and PostgreSQL.

Both backends understand ``INSERT … ON CONFLICT``, but SQLAlchemy builds it with each
dialect's own ``insert``; this module picks the right one so the repositories stay portable.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Executable
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.storage.prepared import Prepared
from engine.storage.tables import Base, ReferenceCounterRow
from engine.storage.unit import Link

__all__ = ["increment_counter", "insert_ignoring_conflict"]


def _insert(name: str, model: type[Base]) -> Any:
    if name == "postgresql":
        return postgresql.insert(model)
    if name == "sqlite":
        return sqlite.insert(model)
    raise RuntimeError(f"unsupported dialect {name}")  # Database refuses others earlier


def insert_ignoring_conflict(
    session: Session, model: type[Base], values: dict[str, Any]
) -> Executable:
    """``INSERT … ON CONFLICT DO NOTHING``: create a row unless it is already there."""
    insert = _insert(session.get_bind().dialect.name, model)
    statement: Executable = insert.values(**values).on_conflict_do_nothing()
    return statement


def increment_counter(link: Link, prefix: str, year: int) -> int:
    """Atomically add one to the (prefix, year) counter and return the new value.

    A single upsert: the first use of a (prefix, year) creates the row with 1; concurrent
    transactions queue on the row lock, so no two ever get the same number.
    """
    name = link.dialect.name
    upsert = _COUNTER_UPSERTS.get(name)
    if upsert is None:
        statement = _insert(name, ReferenceCounterRow)
        statement = statement.on_conflict_do_update(
            index_elements=[ReferenceCounterRow.prefix, ReferenceCounterRow.year],
            set_={"last_number": ReferenceCounterRow.last_number + 1},
        ).returning(ReferenceCounterRow.last_number)
        upsert = _COUNTER_UPSERTS[name] = Prepared(
            statement, ["prefix", "year", "last_number"]
        )
    values = {"prefix": prefix, "year": year, "last_number": 1}
    (number,) = upsert.execute(link, values).fetchone()
    return int(number)


_COUNTER_UPSERTS: dict[str, Prepared] = {}
"""The counter upsert per dialect, built once (statement construction was most of its cost)."""
