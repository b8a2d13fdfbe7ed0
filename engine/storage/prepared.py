"""Hot-path statements: compiled once per dialect, run straight on the DBAPI cursor.

Every submission runs the same handful of statements (version check, reference counter, the
submission, its event, its outbox rows). Through ``Connection.execute`` each costs ~40–60 µs
of SQLAlchemy bookkeeping (cache lookup, execution context, result wrapping) on top of a few
µs in the driver — most of a submission's CPU. A :class:`Prepared` statement is still written
in SQLAlchemy Core (portable: each dialect compiles its own SQL and paramstyle, and the
columns' types convert the values exactly as on the normal path), but is compiled once per
dialect and then executed on the transaction's DBAPI cursor (a SQLAlchemy ``Connection``'s
or a driver transaction's, ``engine.storage.driver``). The bind conversions are resolved with
the compilation — which positions convert, and how — so a call converts only those values;
``rows`` converts results by the columns' types too. Driver errors are wrapped as
SQLAlchemy's ``DBAPIError`` subclasses, so ``storage_errors`` handles them like any other.
Statement logging (``echo``) does not see these.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.selectable import ExecutableReturnsRows
from sqlalchemy.types import TypeDecorator

from engine.storage.unit import Link

__all__ = ["Prepared", "run_driver_sql"]


def run_driver_sql(connection: Connection, sql: str, arguments: Any = ()) -> Any:
    """Execute ``sql`` on the connection's DBAPI cursor (inside its transaction) and return
    the cursor; driver errors leave as SQLAlchemy ``DBAPIError`` subclasses, as from
    ``Connection.execute``."""
    return run_on(connection.dialect, connection.connection, sql, arguments)


def run_on(dialect: Dialect, dbapi_connection: Any, sql: str, arguments: Any = ()) -> Any:
    """:func:`run_driver_sql` on a DBAPI connection (``Database``'s driver transactions)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(sql, arguments)
    except dialect.loaded_dbapi.Error as exc:
        cursor.close()
        raise DBAPIError.instance(
            sql, arguments, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from exc
    return cursor


_Arguments = Callable[[Mapping[str, Any]], Sequence[Any]]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    defaults: dict[str, Any]
    """Values the statement itself carries (e.g. the ``1`` of ``last_number + 1``)."""
    take: _Arguments | None
    """Positional paramstyle: the values in bind order, taken in one C call
    (``operator.itemgetter``); None for a named paramstyle (the dict is passed)."""
    converters: tuple[tuple[Any, Callable[[Any], Any]], ...]
    """(position, or name for a named paramstyle; the type's bind processor), only for the
    binds whose type converts values — resolved once, so a call does no per-value lookup."""
    results: tuple[Callable[[Any], Any] | None, ...] | None
    """Per result column: its type's conversion of the driver's value, if any; None when no
    column converts (rows are taken as they come)."""


_NOTHING = object()
_SHARED: dict[tuple[Any, ...], Callable[[Any], Any]] = {}
"""One remembering converter per (type, dialect): see :func:`_converter`."""
_SHARED_LOCK = threading.Lock()


def _converter(type_: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The bind processor of ``type_`` on ``dialect`` (None: values pass unchanged).

    For date and time types it is shared by every statement and column of that type and
    remembers its last conversion: a transaction writes its one ``now`` into several columns
    and rows (a submission: five times, in three statements), and each conversion costs a few
    µs (a ``TypeDecorator`` call, timezone arithmetic, formatting on SQLite). ``None`` passes
    straight through when the processor maps it to None, so a NULL column between two
    timestamps does not evict the remembered one. The (value, result) pair is swapped as one
    tuple, so threads sharing it never see a mismatched pair.
    """
    process: Callable[[Any], Any] | None = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None or not _immutable_values(type_):
        return process
    key = (type(type_), repr(type_), dialect.name, dialect.driver, dialect.paramstyle)
    with _SHARED_LOCK:
        shared = _SHARED.get(key)
        if shared is None:
            shared = _SHARED[key] = _remembering(process, none_passes=process(None) is None)
    return shared


def _remembering(process: Callable[[Any], Any], *, none_passes: bool) -> Callable[[Any], Any]:
    last: tuple[Any, Any] = (_NOTHING, None)

    def convert(value: Any) -> Any:
        nonlocal last
        if value is None and none_passes:
            return None
        seen = last
        if seen[0] is value:
            return seen[1]
        converted = process(value)
        last = (value, converted)
        return converted

    return convert


def _immutable_values(type_: Any) -> bool:
    """True for types whose Python values cannot change after the fact (date and time),
    also behind a ``TypeDecorator`` — whose conversion must then depend on the value alone,
    as ``tables.UTCDateTime``'s does."""
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    try:
        python_type = type_.python_type
    except NotImplementedError:
        return False
    return python_type in (datetime, date, time)


def _taker(order: tuple[str, ...]) -> _Arguments:
    if len(order) >= 2:
        return itemgetter(*order)
    if order:
        (name,) = order
        return lambda params: (params[name],)
    return lambda params: ()


class Prepared:
    """One Core statement, compiled per dialect on first use (thread-safe, cached forever).

    ``execute`` takes the values by bind name (for an INSERT: column keys, compiled for
    exactly those columns) and returns the DBAPI cursor (``fetchall`` for RETURNING rows).
    It runs on a :class:`~engine.storage.unit.Link`: a SQLAlchemy ``Connection`` or the
    driver transaction's pooled DBAPI connection.
    """

    def __init__(
        self, statement: ExecutableReturnsRows, columns: Sequence[str] | None = None
    ) -> None:
        self._statement = statement
        self._columns = list(columns) if columns is not None else None
        self._compiled: dict[tuple[str, str, str], _Compiled] = {}
        """Per (dialect, driver, paramstyle): what the SQL text and its parameters depend on."""
        self._last: tuple[Dialect, _Compiled] | None = None
        """The dialect object used last and its entry: one identity check instead of a key
        built per call (a process normally has one dialect per backend)."""
        self._lock = threading.Lock()

    def execute(self, link: Link, values: Mapping[str, Any]) -> Any:
        return self._execute(link.dialect, link.connection, values)

    def rows(self, link: Link, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a SELECT (or RETURNING) and fetch its rows, each value converted by its
        column's type as ``Connection.execute`` would (e.g. JSON text parsed on SQLite)."""
        return self.rows_on(link.dialect, link.connection, values)

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
        if processors is None:
            return [tuple(row) for row in rows]
        return [
            tuple(value if process is None else process(value)
                  for process, value in zip(processors, row, strict=True))
            for row in rows
        ]

    def _execute(self, dialect: Dialect, dbapi_connection: Any, values: Mapping[str, Any]) -> Any:
        compiled = self._compiled_for(dialect)
        params = {**compiled.defaults, **values} if compiled.defaults else values
        arguments: Any
        if compiled.take is not None:
            arguments = compiled.take(params)
            if compiled.converters:
                arguments = list(arguments)
                for position, process in compiled.converters:
                    arguments[position] = process(arguments[position])
        else:
            arguments = dict(params)
            for name, process in compiled.converters:
                arguments[name] = process(arguments[name])
        return run_on(dialect, dbapi_connection, compiled.sql, arguments)

    def _compiled_for(self, dialect: Dialect) -> _Compiled:
        last = self._last
        if last is not None and last[0] is dialect:
            return last[1]
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        found = self._compiled.get(key) or self._compile(dialect, key)
        self._last = (dialect, found)
        return found

    def _compile(self, dialect: Dialect, key: tuple[str, str, str]) -> _Compiled:
        with self._lock:
            found = self._compiled.get(key)
            if found is not None:
                return found
            compiled: Any = self._statement.compile(dialect=dialect, column_keys=self._columns)
            processors: dict[str, Callable[[Any], Any]] = {}
            for bind, name in compiled.bind_names.items():
                process = _converter(bind.type, dialect)
                if process is not None:
                    processors[name] = process
            defaults = {
                name: bind.effective_value
                for bind, name in compiled.bind_names.items()
                if bind.value is not None or bind.callable is not None
            }
            take: _Arguments | None = None
            converters: list[tuple[Any, Callable[[Any], Any]]]
            if compiled.positional:
                order = tuple(compiled.positiontup)
                take = _taker(order)
                converters = [
                    (position, processors[name])
                    for position, name in enumerate(order) if name in processors
                ]
            else:
                converters = list(processors.items())
            results = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self._statement.exported_columns
            )
            found = self._compiled[key] = _Compiled(
                compiled.string, defaults, take, tuple(converters),
                results if any(results) else None,
            )
            return found
