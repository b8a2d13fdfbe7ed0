"""One object that owns the connection to formflow's database.

A :class:`Database` is created from a URL and passed explicitly to whoever needs it (there is
no module-level engine or session, and nothing connects on import or construction — the first
transaction does). SQLite (the default, a file) and PostgreSQL (``postgresql+psycopg://``) are
supported.

Why the SQLite set-up looks the way it does:

* ``PRAGMA busy_timeout`` is set *first* on every new connection, because even switching the
  journal mode needs a lock and must wait politely for other processes instead of failing.
* WAL lets readers proceed while one writer writes; ``synchronous=FULL`` keeps a committed
  submission on disk even after a power cut (a 201 must never be lost).
* Python's sqlite3 module starts transactions lazily and only before DML; we take over and
  emit ``BEGIN IMMEDIATE`` for write transactions, so two writers queue on the busy timeout
  instead of one of them failing half-way when it upgrades its read lock.
* Before that, formflow's writers queue for the write turn (``writer_turn``: a thread lock
  and a lock file next to the database), so a waiting writer is woken the moment the turn is
  free instead of sleeping in SQLite's busy handler; the busy timeout bounds both waits.

Every database failure that is not the caller's fault (locked, unreachable, schema missing)
leaves as :class:`engine.exceptions.StorageUnavailable` with a message for people.
"""

from __future__ import annotations

import fcntl
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.orm import Session
from sqlalchemy.pool import StaticPool

from engine.exceptions import StorageUnavailable
from engine.storage.driver import DriverTransaction, checkout
from engine.storage.errors import BUSY_MESSAGE, storage_errors
from engine.storage.group_commit import GroupCommit
from engine.storage.prepared import Prepared, run_driver_sql
from engine.storage.store import Store
from engine.storage.unit import Unit
from engine.storage.writer_turn import WriterTurn

__all__ = ["Database", "OutboxHook", "storage_errors"]

log = logging.getLogger(__name__)

T = TypeVar("T")

OutboxHook = Callable[[list[int]], None]
"""Called with the ids of outbox rows a transaction made due (new or reset to ``pending``)."""

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
ADVISORY_LOCK_KEY = 0x666F726D666C6F77  # "formflow": one schema upgrade at a time per server
DEFAULT_BUSY_TIMEOUT_MS = 10_000
CONNECT_TIMEOUT_S = 10
_BEGIN_OPTION = "formflow_sqlite_begin"
_BEGIN_SQL = {mode: f"BEGIN {mode}" for mode in ("DEFERRED", "IMMEDIATE", "EXCLUSIVE")}


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _ignore_committed(_outbox_ids: list[int]) -> None:
    """A batch's hook: each caller of the batch runs the real hook for its own rows."""


class Database:
    """The database behind one formflow installation (or one test)."""

    def __init__(
        self,
        url: str | URL,
        *,
        clock: Callable[[], datetime] | None = None,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        echo: bool = False,
    ) -> None:
        try:
            self._url = make_url(url)
        except (ArgumentError, ValueError) as exc:
            raise StorageUnavailable(f"not a usable database URL: {exc}") from None
        backend = self._url.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise StorageUnavailable(
                f"unsupported database {backend!r}: use sqlite:///… or postgresql+psycopg://…"
            )
        self._sqlite = backend == "sqlite"
        self._clock = clock or _utcnow
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._echo = echo
        self._engine: Engine | None = None
        self._immediate_engine: tuple[Engine, Engine] | None = None
        self._engine_lock = threading.Lock()
        self._sqlite_writer = self._new_writer_turn()
        """SQLite has one writer at a time anyway: writers of this database, in this process
        and in others, queue for the turn and are woken at once (``writer_turn``), instead of
        polling in SQLite's busy handler (which sleeps up to 100 ms between tries)."""
        self.group_commit = self._new_group_commit()
        """SQLite: concurrent :meth:`grouped` writes of this process share a commit."""
        self.memo: dict[Any, Any] = {}
        """Per-database cache for derived, immutable things (e.g. loaded definition versions
        keyed by content hash); lives and dies with this object, never global."""
        self.on_outbox_committed: OutboxHook | None = None
        """Called right AFTER a write transaction that made outbox rows due has committed
        (never inside it: a worker must find the rows), with their ids. The web app sets it
        to enqueue them (``web/notify.py``); it must not raise, and if it does the error is
        logged and swallowed — the rows stay ``pending`` for the relay and the caller keeps
        the result it already owes (a 201 for a stored submission)."""
        self.submission_token_key: bytes | None = None
        """Key from which applicant tokens are derived (``engine.services.tokens``); None:
        random tokens. Set from the app's secret key so workers can rebuild status links."""

    # -- identity -------------------------------------------------------------------------

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self._url.get_backend_name()

    @property
    def url(self) -> str:
        """The URL with any password masked, fit for logs and error messages."""
        return self._url.render_as_string(hide_password=True)

    @property
    def sqlite_path(self) -> Path | None:
        """The SQLite file, or None for PostgreSQL and in-memory SQLite."""
        if self.backend != "sqlite":
            return None
        database = self._url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return Path(database)

    def now(self) -> datetime:
        """The current time as every service should see it (injectable for tests)."""
        return self._clock()

    def __repr__(self) -> str:
        return f"Database({self.url!r})"

    # -- engine ---------------------------------------------------------------------------

    def _get_engine(self) -> Engine:
        with self._engine_lock:
            if self._engine is None:
                self._engine = self._create_engine()
            return self._engine

    def _create_engine(self) -> Engine:
        try:
            if self.backend == "sqlite":
                return self._create_sqlite_engine()
            # pre-ping: a connection that died with the server is replaced, not handed out;
            # connect_timeout: an unreachable server fails fast instead of hanging a request.
            connect_args = {} if "connect_timeout" in self._url.query else {
                "connect_timeout": CONNECT_TIMEOUT_S
            }
            return create_engine(
                self._url, echo=self._echo, pool_pre_ping=True, connect_args=connect_args
            )
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise StorageUnavailable(f"cannot use database {self.url}: {exc}") from None

    def _create_sqlite_engine(self) -> Engine:
        kwargs: dict[str, Any] = {"echo": self._echo}
        if self.sqlite_path is None:
            # In-memory: one shared connection, or every checkout would see an empty database.
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        engine = create_engine(self._url, **kwargs)
        busy_timeout = self._busy_timeout_ms

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see module doc
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f"PRAGMA busy_timeout = {busy_timeout}")
                cursor.execute("PRAGMA journal_mode = WAL")
                cursor.execute("PRAGMA synchronous = FULL")
                cursor.execute("PRAGMA foreign_keys = ON")
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
            run_driver_sql(connection, _BEGIN_SQL[mode]).close()  # once per transaction: cheap

        return engine

    def after_fork(self) -> None:
        """Make a Database inherited through ``fork()`` safe to use in the child process.

        The parent's pooled connections are abandoned, not closed: closing them here would
        close them for the parent too (PostgreSQL's would be terminated), and the child opens
        its own. What was cached stays: loaded definitions (``memo``) and SQLAlchemy's compiled
        statements, so a forked RQ work horse starts warm. Locks are made anew: a copy of a
        lock held by another thread of the parent would never be released in the child.
        """
        self._engine_lock = threading.Lock()
        self._sqlite_writer = self._new_writer_turn()
        self.group_commit = self._new_group_commit()
        if self._engine is not None:
            self._engine.dispose(close=False)

    def _new_writer_turn(self) -> WriterTurn | None:
        if self.backend != "sqlite":
            return None
        path = self.sqlite_path
        return WriterTurn(None if path is None else Path(f"{path}.writer.lock"))

    def _new_group_commit(self) -> GroupCommit | None:
        turn = self._sqlite_writer
        if turn is None:
            return None
        return GroupCommit(
            transaction=partial(
                self._driver_transaction, turn=turn, committed=_ignore_committed
            ),
            alone=self._alone,
            committed=self._outbox_committed,
        )

    def dispose(self) -> None:
        """Close pooled connections (at shutdown, or when a test is done)."""
        with self._engine_lock:
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    # -- transactions ---------------------------------------------------------------------

    def transaction(self, *, orm: bool = True) -> AbstractContextManager[Store]:
        """A write transaction: committed when the block ends, rolled back on any error.

        ``orm=False``: a *driver* transaction, for paths whose statements are all prepared
        (``engine.storage.prepared``), such as storing a submission. It runs on the pooled
        DBAPI connection with ``BEGIN IMMEDIATE`` (SQLite) or the driver's implicit
        transaction (PostgreSQL), begun and ended here — no SQLAlchemy ``Connection``,
        events or session: an empty one costs ~25 µs CPU against ~47 µs (of which the pool
        checkout, the writer turn and BEGIN/COMMIT are ~16 µs). Same writer turn, same error
        mapping, same rollback on error and the same post-commit hook as the ORM one; a
        repository method that needs the ORM raises ``SessionUnavailable`` there
        (``engine.storage.unit``).
        """
        if orm:
            return self._orm_transaction()
        return self._driver_transaction(
            turn=self._sqlite_writer, committed=self._outbox_committed
        )

    def grouped(self, work: Callable[[Store], T]) -> T:
        """Run ``work`` in a committed driver write transaction and return its result —
        on SQLite perhaps in one transaction with the concurrent ``grouped`` works of other
        threads of this process (``group_commit``: one commit, one sync for all of them).

        ``work`` uses only its ``Store``'s prepared statements (as in ``transaction(
        orm=False)``), may run in another thread, and may run again after a rollback. It
        returns only after the commit that holds its rows, and its post-commit hook runs in
        the caller's thread.
        """
        if self.group_commit is None:
            return self._alone(work)
        return self.group_commit.run(work)

    def _alone(self, work: Callable[[Store], T]) -> T:
        """``work`` in a driver write transaction of its own."""
        with self.transaction(orm=False) as store:
            return work(store)

    def _driver_transaction(
        self, *, turn: WriterTurn | None, committed: Callable[[list[int]], None]
    ) -> DriverTransaction:
        return DriverTransaction(
            self._get_engine(),
            turn=turn,
            timeout_s=self._busy_timeout_ms / 1000,
            begin=_BEGIN_SQL["IMMEDIATE"] if self._sqlite else None,
            clock=self.now,
            committed=committed,
        )

    @contextmanager
    def _orm_transaction(self) -> Iterator[Store]:
        with (
            self._writer_turn(),
            storage_errors(),
            self._writer_engine().connect() as connection,
            connection.begin(),
        ):
            # The session joins the connection's transaction and is made only when a
            # repository needs the ORM; hot statements run on the connection itself
            # (``prepared``). Flushed here, committed with the connection when the block ends.
            unit = Unit(connection, partial(Session, bind=connection, expire_on_commit=False))
            store = Store(unit, self.now())
            try:
                yield store
                session = unit.made_session
                if session is not None:
                    session.flush()
            finally:
                session = unit.made_session
                if session is not None:
                    session.close()
        # Reached only when the block ended normally and the commit succeeded; the write
        # lock is released already, so the hook may open transactions of its own.
        if store.outbox.due:
            self._outbox_committed(list(store.outbox.due))

    def _writer_engine(self) -> Engine:
        """The engine for write transactions (SQLite: ``BEGIN IMMEDIATE``), made once."""
        engine = self._get_engine()
        if self.backend != "sqlite":
            return engine
        made = self._immediate_engine
        if made is None or made[0] is not engine:
            made = self._immediate_engine = (
                engine, engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
            )
        return made[1]

    def _outbox_committed(self, outbox_ids: list[int]) -> None:
        hook = self.on_outbox_committed
        if hook is None:
            return
        try:
            hook(outbox_ids)
        except Exception:  # the transaction is committed: nothing may undo the caller's result
            log.exception("post-commit hook failed for outbox rows %s; the relay will "
                          "pick them up", outbox_ids)

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """SQLite: the write turn, waited for at most the busy timeout (then a 503)."""
        turn = self._sqlite_writer
        if turn is None:
            yield
            return
        if not turn.acquire(self._busy_timeout_ms / 1000):
            raise StorageUnavailable(BUSY_MESSAGE)
        try:
            yield
        finally:
            turn.release()

    @contextmanager
    def read(self) -> Iterator[Store]:
        """A read-only transaction: one consistent snapshot, never holding the write lock.

        As in :meth:`transaction`, the session (made when first needed) joins a transaction
        begun on the connection, so prepared statements (``engine.storage.prepared``) read
        in the same snapshot without the session's own transaction bookkeeping.
        """
        with (
            storage_errors(),
            self._get_engine().connect() as connection,
            connection.begin(),
        ):
            unit = Unit(connection, partial(Session, bind=connection))
            try:
                yield Store(unit, self.now())
            finally:
                session = unit.made_session
                if session is not None:
                    session.close()

    def read_rows(self, statement: Prepared, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """The rows of ONE prepared statement, read outside any transaction (for this
        package's repositories, e.g. ``engine.storage.drafts.draft_by_token_hash``).

        A single statement is its own consistent snapshot — SQLite runs it in autocommit
        mode, PostgreSQL in the implicit transaction that the pool rolls back when the
        connection returns — so a hot one-row read needs none of :meth:`read`'s BEGIN and
        COMMIT, session and SQLAlchemy ``Connection`` around the pooled DBAPI connection:
        together about ⅔ of the cost of reading a draft that way.
        """
        engine = self._get_engine()
        dialect = engine.dialect
        with storage_errors():
            dbapi_connection = checkout(engine)
            try:
                return statement.rows_on(dialect, dbapi_connection, values)
            finally:
                dbapi_connection.close()  # back to the pool, which rolls back

    def ping(self) -> None:
        """Raise :class:`StorageUnavailable` unless the database answers a trivial query."""
        with storage_errors(), self._get_engine().connect() as connection:
            connection.execute(text("SELECT 1"))

    # -- schema ---------------------------------------------------------------------------

    def upgrade(self, revision: str = "head") -> None:
        """Create or upgrade the schema with Alembic; safe to call from many processes at once.

        Concurrent callers are serialised (SQLite: ``flock`` on ``<db>.migrate.lock``;
        PostgreSQL: a transaction-level advisory lock), so the second one finds the schema
        already current and does nothing.
        """
        with storage_errors(), self._migration_lock():
            engine = self._get_engine()
            if self.backend == "sqlite":
                engine = engine.execution_options(**{_BEGIN_OPTION: "EXCLUSIVE"})
            with (
                engine.connect() as connection,
                _sqlite_foreign_keys_off(connection, self.backend == "sqlite"),
                connection.begin(),
            ):
                if self.backend == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                    )
                config = _alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if self.backend == "sqlite":
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:  # rolls the whole upgrade back
                        raise StorageUnavailable(
                            f"the schema upgrade would break {len(broken)} reference(s), "
                            f"e.g. {tuple(broken[0])}; nothing was changed"
                        )

    def current_revision(self) -> str | None:
        """The schema revision the database is at (None: never initialised)."""
        with storage_errors(), self._get_engine().connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @staticmethod
    def head_revision() -> str | None:
        """The newest revision this code ships; compare with :meth:`current_revision`."""
        return ScriptDirectory.from_config(_alembic_config()).get_current_head()

    @contextmanager
    def _migration_lock(self) -> Iterator[None]:
        path = self.sqlite_path
        if path is None:  # PostgreSQL locks inside the transaction; in-memory has one process
            yield
            return
        try:
            handle = open(f"{path}.migrate.lock", "a+b")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise StorageUnavailable(
                f"cannot open the SQLite database {path}: {exc.strerror}"
            ) from None
        with handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection, sqlite: bool) -> Iterator[None]:
    """Foreign keys off while SQLite migrations run (then checked, see ``upgrade``).

    SQLite changes a table's constraints only by copying it into a new table and dropping the
    old one (Alembic's batch mode), and with foreign keys on, that drop deletes the rows of
    every table referencing it with ``ON DELETE CASCADE`` — an outbox losing its rows because
    the events table got a new CHECK. The pragma is ignored inside a transaction, so it is set
    on the DBAPI connection before ``BEGIN`` and restored after ``COMMIT``.
    """
    if not sqlite:
        yield
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys = ON")


def _alembic_config() -> Config:
    """Alembic's configuration, built in code: no alembic.ini is needed at run time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config
