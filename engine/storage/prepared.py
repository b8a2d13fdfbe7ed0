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
from sqlalchemy.sql.selectable import ExecutableReturnsRows

__all__ = ["Prepared", "connection_of", "run_driver_sql"]


def connection_of(session: Session) -> Connection:
    """The connection ``session`` runs on: the one it is bound to (write transactions bind
    it to theirs, see ``Database.transaction``), else the session's own."""
    bind = session.bind
    if isinstance(bind, Connection):
        return bind
    return session.connection()


def run_driver_sql(connection: Connection, sql: str, arguments: Any = ()) -> Any:
    """Execute ``sql`` on the connection's DBAPI cursor (inside its transaction) and return
    the cursor; driver errors leave as SQLAlchemy ``DBAPIError`` subclasses, as from
    ``Connection.execute``."""
    return _run(connection.dialect, connection.connection, sql, arguments)


def _run(dialect: Dialect, dbapi_connection: Any, sql: str, arguments: Any) -> Any:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(sql, arguments)
    except dialect.loaded_dbapi.Error as exc:
        cursor.close()
        raise DBAPIError.instance(
            sql, arguments, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from exc
    return cursor


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    defaults: dict[str, Any]
    """Values the statement itself carries (e.g. the ``1`` of ``last_number + 1``)."""
    order: tuple[str, ...] | None
    """Bind names in positional order; None for a named paramstyle."""
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]
    results: tuple[Callable[[Any], Any] | None, ...]
    """Per result column: its type's conversion of the driver's value, if any."""


class Prepared:
    """One Core statement, compiled per dialect on first use (thread-safe, cached forever).

    ``execute`` takes the values by bind name (for an INSERT: column keys, compiled for
    exactly those columns) and returns the DBAPI cursor (``fetchall`` for RETURNING rows).
    """

    def __init__(
        self, statement: ExecutableReturnsRows, columns: Sequence[str] | None = None
    ) -> None:
        self._statement = statement
        self._columns = list(columns) if columns is not None else None
        self._compiled: dict[tuple[str, str, str], _Compiled] = {}
        """Per (dialect, driver, paramstyle): what the SQL text and its parameters depend on."""
        self._lock = threading.Lock()

    def execute(self, connection: Connection, values: Mapping[str, Any]) -> Any:
        return self._execute(connection.dialect, connection.connection, values)

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a SELECT (or RETURNING) and fetch its rows, each value converted by its
        column's type as ``Connection.execute`` would (e.g. JSON text parsed on SQLite)."""
        return self.rows_on(connection.dialect, connection.connection, values)

    def rows_on(
        self, dialect: Dialect, dbapi_connection: Any, values: Mapping[str, Any]
    ) -> list[tuple[Any, ...]]:
        """:meth:`rows` on a pooled DBAPI connection without SQLAlchemy's ``Connection``
        around it (``Database.read_rows``); the cursor is closed when the rows are read."""
        processors = self._compiled_for(dialect).results
        cursor = self._execute(dialect, dbapi_connection, values)
        try:
            rows = cursor.fetchall()
        finally:
            cursor.close()
        return self._converted(processors, rows)

    def _execute(self, dialect: Dialect, dbapi_connection: Any, values: Mapping[str, Any]) -> Any:
        compiled = self._compiled_for(dialect)
        params = {**compiled.defaults, **values}
        for name, process in compiled.processors:
            params[name] = process(params[name])
        arguments: Any = (
            params if compiled.order is None else tuple(params[name] for name in compiled.order)
        )
        return _run(dialect, dbapi_connection, compiled.sql, arguments)

    @staticmethod
    def _converted(
        processors: tuple[Callable[[Any], Any] | None, ...], rows: Sequence[Any]
    ) -> list[tuple[Any, ...]]:
        if not any(processors):
            return [tuple(row) for row in rows]
        return [
            tuple(value if process is None else process(value)
                  for process, value in zip(processors, row, strict=True))
            for row in rows
        ]

    def _compiled_for(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        return self._compiled.get(key) or self._compile(dialect, key)

    def _compile(self, dialect: Dialect, key: tuple[str, str, str]) -> _Compiled:
        with self._lock:
            found = self._compiled.get(key)
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
            results = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self._statement.exported_columns
            )
            found = self._compiled[key] = _Compiled(
                compiled.string, defaults, order, tuple(processors), results
            )
            return found
