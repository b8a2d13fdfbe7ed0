"""Hot-path statements: compiled once per dialect, run straight on the DBAPI cursor.

Every submission runs the same handful of statements (version check, reference counter, the
submission, its event, its outbox rows). Through ``Connection.execute`` each costs ~40–60 µs
of SQLAlchemy bookkeeping (cache lookup, execution context, result wrapping) on top of a few
µs in the driver — most of a submission's CPU. A :class:`Prepared` statement is still written
in SQLAlchemy Core (portable: each dialect compiles its own SQL and paramstyle, and the
columns' types convert the values exactly as on the normal path), but is compiled once per
dialect and then executed on the transaction's DBAPI cursor. Driver errors are wrapped as
SQLAlchemy's ``DBAPIError`` subclasses, so ``storage_errors`` handles them like any other.

Not for statements whose results need type conversion on the way out (JSON, timestamps):
those keep ``Connection.execute``. Statement logging (``echo``) does not see these.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ClauseElement

__all__ = ["Prepared", "connection_of"]


def connection_of(session: Session) -> Connection:
    """The connection ``session`` runs on: the one it is bound to (write transactions bind
    it to theirs, see ``Database.transaction``), else the session's own."""
    bind = session.bind
    if isinstance(bind, Connection):
        return bind
    return session.connection()


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    defaults: dict[str, Any]
    """Values the statement itself carries (e.g. the ``1`` of ``last_number + 1``)."""
    order: tuple[str, ...] | None
    """Bind names in positional order; None for a named paramstyle."""
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]


class Prepared:
    """One Core statement, compiled per dialect on first use (thread-safe, cached forever).

    ``execute`` takes the values by bind name (for an INSERT: column keys, compiled for
    exactly those columns) and returns the DBAPI cursor (``fetchall`` for RETURNING rows).
    """

    def __init__(self, statement: ClauseElement, columns: Sequence[str] | None = None) -> None:
        self._statement = statement
        self._columns = list(columns) if columns is not None else None
        self._compiled: dict[str, _Compiled] = {}
        self._lock = threading.Lock()

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> Any:
        dialect = connection.dialect
        compiled = self._compiled.get(dialect.name) or self._compile(dialect)
        params = {**compiled.defaults, **values}
        for name, process in compiled.processors:
            params[name] = process(params[name])
        arguments: Any = (
            params if compiled.order is None else tuple(params[name] for name in compiled.order)
        )
        cursor = connection.connection.cursor()
        try:
            cursor.execute(compiled.sql, arguments)
        except dialect.loaded_dbapi.Error as exc:
            cursor.close()
            raise DBAPIError.instance(
                compiled.sql, arguments, exc, dialect.loaded_dbapi.Error, dialect=dialect
            ) from exc
        return cursor

    def _compile(self, dialect: Dialect) -> _Compiled:
        with self._lock:
            found = self._compiled.get(dialect.name)
            if found is not None:
                return found
            compiled: Any = self._statement.compile(dialect=dialect, column_keys=self._columns)
            processors = []
            for bind, name in compiled.bind_names.items():
                process = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if process is not None:
                    processors.append((name, process))
            defaults = {
                name: bind.effective_value
                for bind, name in compiled.bind_names.items()
                if bind.value is not None or bind.callable is not None
            }
            order = tuple(compiled.positiontup) if compiled.positional else None
            found = self._compiled[dialect.name] = _Compiled(
                compiled.string, defaults, order, tuple(processors)
            )
            return found
