"""The driver transaction: a write transaction on the pooled DBAPI connection itself.

``Database.transaction(orm=False)`` hands one out, for paths whose statements are all
prepared (``engine.storage.prepared``) — storing a submission. Against the ORM transaction it
leaves out SQLAlchemy's ``Connection`` (its events, transaction objects and result wrapping)
and the ORM session, and it is a class rather than a stack of generator context managers:
an empty one costs about half of an empty ORM transaction (~25 against ~47 µs CPU), two
thirds of it the pool checkout, the writer turn and BEGIN/COMMIT themselves. Like prepared
statements, its BEGIN and COMMIT are not seen by ``echo`` logging.

What it keeps, so callers see no difference: the SQLite writer turn (waited for at most the
busy timeout, then a 503), ``BEGIN IMMEDIATE`` on SQLite and the driver's implicit
transaction on PostgreSQL, commit at the end, rollback on any error, the same error mapping
(``engine.storage.errors``), and the post-commit hook with the ids of the outbox rows the
transaction made due — called after the commit and after the turn is given back.

The connection is checked out before the turn is waited for and, once committed, returned to
the pool after the turn is given back: the pool's bookkeeping (and its reset on return) is
not done while other writers wait. After a rollback or a failed commit it is returned while
the turn is still held, so nothing of a failed transaction outlives the turn.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

from sqlalchemy import Dialect, Engine
from sqlalchemy.exc import DBAPIError

from engine.exceptions import StorageUnavailable
from engine.storage.errors import BUSY_MESSAGE, unavailable
from engine.storage.prepared import run_on
from engine.storage.store import Store
from engine.storage.unit import DriverLink, Unit
from engine.storage.writer_turn import WriterTurn

__all__ = ["DriverTransaction", "checkout"]

log = logging.getLogger(__name__)


class DriverTransaction:
    """One driver transaction (a context manager handing out the :class:`Store`)."""

    __slots__ = (
        "_begin", "_clock", "_committed", "_connection", "_dialect", "_engine", "_store",
        "_timeout_s", "_turn", "_unit",
    )

    def __init__(
        self,
        engine: Engine,
        *,
        turn: WriterTurn | None,
        timeout_s: float,
        begin: str | None,
        clock: Callable[[], datetime],
        committed: Callable[[list[int]], None],
    ) -> None:
        self._engine = engine
        self._turn = turn
        self._timeout_s = timeout_s
        self._begin = begin
        """``BEGIN IMMEDIATE`` on SQLite; None on PostgreSQL (the driver begins implicitly)."""
        self._clock = clock
        self._committed = committed
        self._connection: Any = None
        self._store: Store | None = None

    def __enter__(self) -> Store:
        dialect = self._dialect = self._engine.dialect
        try:
            # Checked out before the turn is waited for, and given back after it is given
            # back (when committed): the pool's work is not done while other writers wait.
            connection = self._connection = checkout(self._engine)
        except BaseException as exc:
            replacement = unavailable(exc)
            if replacement is None:
                raise
            raise replacement from exc
        turn = self._turn
        try:
            if turn is not None and not turn.acquire(self._timeout_s):
                raise StorageUnavailable(BUSY_MESSAGE)
        except BaseException:
            connection.close()
            raise
        try:
            if self._begin is not None:
                run_on(dialect, connection, self._begin).close()
            # The time is read once the turn is ours, as in the ORM transaction:
            # timestamps follow the order in which writers commit.
            unit = self._unit = Unit(DriverLink(dialect, connection), None)
            store = self._store = Store(unit, self._clock())
        except BaseException as exc:  # no __exit__ follows: give everything back here
            connection.close()  # back to the pool, which rolls back a begun transaction
            if turn is not None:
                turn.release()
            replacement = unavailable(exc)
            if replacement is None:
                raise
            raise replacement from exc
        return store

    def another_store(self) -> Store:
        """A further :class:`Store` in this transaction, with its own ``now`` and its own
        due outbox rows (group commit: one per work stored); only inside the block."""
        return Store(self._unit, self._clock())

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        committed = False
        try:
            try:
                _end(self._dialect, self._connection, commit=exc is None)
                committed = exc is None
            finally:
                if not committed:  # back to the pool (which rolls back what is left)
                    self._connection.close()
        except BaseException as failure:  # the commit failed
            replacement = unavailable(failure)
            if replacement is None:
                raise
            raise replacement from failure
        finally:
            if self._turn is not None:
                self._turn.release()
        if committed:
            _give_back(self._connection)
        if exc is not None:  # rolled back; the error leaves as storage_errors() would map it
            replacement = unavailable(exc)
            if replacement is not None:
                raise replacement from exc
            return
        assert self._store is not None
        due = self._store.outbox.due
        if due:  # committed, turn given back: the hook may open transactions of its own
            self._committed(list(due))


def checkout(engine: Engine) -> Any:
    """A pooled DBAPI connection, connect errors wrapped as ``engine.connect()`` would."""
    dialect = engine.dialect
    try:
        return engine.raw_connection()
    except dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            None, None, exc, dialect.loaded_dbapi.Error, dialect=dialect
        ) from exc


def _give_back(connection: Any) -> None:
    """Return a committed transaction's connection to the pool; a failure there is logged
    (the transaction is committed: nothing may undo the caller's result)."""
    try:
        connection.close()
    except Exception:
        log.exception("returning a connection to the pool failed after a commit")


def _end(dialect: Dialect, connection: Any, *, commit: bool) -> None:
    """COMMIT or ROLLBACK, as SQLAlchemy's ``Connection`` would: a failed commit leaves as
    ``DBAPIError`` (then ``StorageUnavailable``); a failed rollback (the connection is gone)
    discards the connection and lets the error that caused the rollback leave, not the
    rollback's."""
    error = dialect.loaded_dbapi.Error
    if commit:
        try:
            connection.commit()
        except error as exc:
            raise DBAPIError.instance("COMMIT", None, exc, error, dialect=dialect) from exc
        return
    try:
        connection.rollback()
    except error as exc:
        log.warning("rollback failed (%s); the connection is discarded", exc)
        connection.invalidate(exc)
