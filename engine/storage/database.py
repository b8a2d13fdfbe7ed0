"""One object that owns the connection to formflow's database.

A :class:`Database` is created from a URL and passed explicitly to whoever needs it (there is
no module-level engine or session, and nothing connects on import or construction — the first
transaction does). PostgreSQL (``postgresql+psycopg://``) is the production database; SQLite
(a file) is the embedded default.

Every transaction is one SQLAlchemy ``Session``: ``with db.transaction() as store:`` commits
when the block ends and rolls back on any error; ``with db.read() as store:`` only reads. The
:class:`Store` holds the repositories over that session.

SQLite is set up the way SQLite-in-production setups usually are (see docs/deploy.md):

* ``PRAGMA busy_timeout`` first on every connection, so a writer waits for the lock instead of
  failing at once (even switching the journal mode needs a lock);
* WAL, so readers proceed while one writer writes;
* ``synchronous=FULL`` by default: a committed submission survives a power cut (``normal``
  may lose the last commits on an OS crash, never corrupts the database);
* ``foreign_keys=ON``;
* ``secure_delete=ON``: deleted and overwritten content is zeroed in the file, not left in
  free space, so an erasure (``engine.services.personal_data``) leaves nothing behind once
  :meth:`Database.forget_erased` has checkpointed the WAL;
* the file is private: created with mode 0600 before SQLite first opens it (SQLite gives its
  ``-wal`` and ``-shm`` files the database file's mode), a looser existing file is tightened;
* SQLAlchemy's documented pysqlite recipe for transactions: the driver's own transaction
  handling is switched off (``isolation_level = None``) and the ``begin`` event emits
  ``BEGIN`` — ``BEGIN IMMEDIATE`` for write transactions, so two writers queue on the busy
  timeout instead of one of them failing when it upgrades a read lock to a write lock.

Every database failure that is not the caller's fault (locked, unreachable, schema missing)
leaves as :class:`engine.exceptions.StorageUnavailable` with a message for people.
"""

from __future__ import annotations

import fcntl
import logging
import os
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
from engine.storage.errors import storage_errors
from engine.storage.store import Store

__all__ = ["Database", "OutboxHook"]

log = logging.getLogger(__name__)

OutboxHook = Callable[[list[str]], None]
"""Called with the delivery ids (UUIDs) of the outbox rows a transaction made due."""
"""Called with the ids of outbox rows a transaction made due (new or reset to ``pending``)."""

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
ADVISORY_LOCK_KEY = 0x666F726D666C6F77  # "formflow": one schema upgrade at a time per server
DEFAULT_BUSY_TIMEOUT_MS = 10_000
PRIVATE_FILE_MODE = 0o600
"""SQLite files hold personal data and password hashes: the owner alone reads them."""
CONNECT_TIMEOUT_S = 10
SYNCHRONOUS_MODES = ("full", "normal")
BEGIN_OPTION = "formflow_sqlite_begin"
"""Execution option naming how SQLite's ``begin`` event starts a transaction."""


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Database:
    """The database behind one formflow installation (or one test)."""

    def __init__(
        self,
        url: str | URL,
        *,
        clock: Callable[[], datetime] | None = None,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        synchronous: str = "full",
        echo: bool = False,
    ) -> None:
        try:
            self._url = make_url(url)
        except (ArgumentError, ValueError) as exc:
            raise StorageUnavailable(f"not a usable database URL: {exc}") from None
        if self._url.get_backend_name() not in ("sqlite", "postgresql"):
            raise StorageUnavailable(
                f"unsupported database {self.backend!r}: use sqlite:///… or postgresql+psycopg://…"
            )
        if synchronous.lower() not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be 'full' or 'normal', not {synchronous!r}")
        self._synchronous = synchronous.upper()
        self._clock = clock or _utcnow
        self._busy_timeout_ms = int(busy_timeout_ms)
        self._echo = echo
        self.engine = self._create_engine()
        """The SQLAlchemy engine (nothing connects before the first transaction)."""
        self._writer = self.engine.execution_options(**{BEGIN_OPTION: "IMMEDIATE"})
        """The same engine and pool for write transactions: on SQLite they begin with
        ``BEGIN IMMEDIATE``."""
        self.memo: dict[Any, Any] = {}
        """Loaded and compiled definition versions, keyed by content hash
        (``engine.services.loading``); lives and dies with this object, never global."""
        self.on_outbox_committed: OutboxHook | None = None
        """Called right AFTER a write transaction that made outbox rows due has committed
        (never inside it: a worker must find the rows), with their delivery ids. The web app sets it
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

    def _create_engine(self) -> Engine:
        try:
            if self.backend == "postgresql":
                # pre-ping: a connection that died with the server is replaced, not handed
                # out; connect_timeout: an unreachable server fails fast instead of hanging.
                connect_args = {} if "connect_timeout" in self._url.query else {
                    "connect_timeout": CONNECT_TIMEOUT_S
                }
                return create_engine(
                    self._url, echo=self._echo, pool_pre_ping=True, connect_args=connect_args
                )
            kwargs: dict[str, Any] = {"echo": self._echo}
            if self.sqlite_path is None:
                # In-memory: one shared connection, or every checkout would see an empty one.
                kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
            engine = create_engine(self._url, **kwargs)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise StorageUnavailable(f"cannot use database {self.url}: {exc}") from None
        pragmas = (
            f"PRAGMA busy_timeout = {self._busy_timeout_ms}",
            "PRAGMA journal_mode = WAL",
            f"PRAGMA synchronous = {self._synchronous}",
            "PRAGMA foreign_keys = ON",
            "PRAGMA secure_delete = ON",
        )

        sqlite_path = self.sqlite_path
        if sqlite_path is not None:

            @event.listens_for(engine, "do_connect")
            def before_connect(*_args: Any) -> None:
                _make_private(sqlite_path)  # then SQLAlchemy connects as usual

        @event.listens_for(engine, "connect")
        def on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # BEGIN is emitted by on_begin
            cursor = dbapi_connection.cursor()
            try:
                for pragma in pragmas:
                    cursor.execute(pragma)
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def on_begin(connection: Connection) -> None:
            mode = connection.get_execution_options().get(BEGIN_OPTION, "")
            connection.exec_driver_sql(f"BEGIN {mode}".strip())

        return engine

    def after_fork(self) -> None:
        """Make a Database inherited through ``fork()`` safe to use in the child process.

        The parent's pooled connections are abandoned, not closed (closing them here would
        close them for the parent too) and the child opens its own; SQLAlchemy's documented
        ``Engine.dispose(close=False)``. The loaded definitions in ``memo`` stay.
        """
        self.engine.dispose(close=False)

    def dispose(self) -> None:
        """Close pooled connections (at shutdown, or when a test is done); the Database stays
        usable and connects again when needed."""
        self.engine.dispose()

    # -- transactions ---------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """A write transaction: committed when the block ends, rolled back on any error.

        After the commit, the outbox rows it made due go to :attr:`on_outbox_committed`.
        """
        with storage_errors(), Session(self._writer, expire_on_commit=False) as session:
            with session.begin():
                store = Store(session, self.now())
                yield store
        if store.outbox.due:
            self._outbox_committed(list(store.outbox.due))

    @contextmanager
    def read(self) -> Iterator[Store]:
        """A read-only transaction that never takes SQLite's write lock (on SQLite one snapshot;
        on PostgreSQL ``READ COMMITTED``, each statement sees what was committed before it)."""
        with storage_errors(), Session(self.engine) as session, session.begin():
            yield Store(session, self.now())

    def _outbox_committed(self, delivery_ids: list[str]) -> None:
        hook = self.on_outbox_committed
        if hook is None:
            return
        try:
            hook(delivery_ids)
        except Exception:  # the transaction is committed: nothing may undo the caller's result
            log.exception("post-commit hook failed for outbox rows %s; the relay will "
                          "pick them up", delivery_ids)

    def forget_erased(self) -> bool:
        """After an erasure: move the WAL into the database file and truncate it, so the
        erased values' old pages are nowhere in the files (SQLite only; a no-op elsewhere).

        False when a reader kept the checkpoint from completing (the WAL then still holds
        old frames until the next checkpoint).
        """
        if self.backend != "sqlite":
            return True
        with storage_errors(), self.engine.connect() as connection:
            busy = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
            connection.commit()
        return busy is None or not busy[0]

    def ping(self) -> None:
        """Raise :class:`StorageUnavailable` unless the database answers a trivial query."""
        with storage_errors(), self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    # -- schema ---------------------------------------------------------------------------

    def upgrade(self, revision: str = "head") -> None:
        """Create or upgrade the schema with Alembic; safe to call from many processes at once.

        Concurrent callers are serialised (SQLite: ``flock`` on ``<db>.migrate.lock`` and
        ``BEGIN EXCLUSIVE``; PostgreSQL: a transaction-level advisory lock), so the second one
        finds the schema already current and does nothing.
        """
        sqlite = self.backend == "sqlite"
        with storage_errors(), self._migration_lock():
            engine = self.engine.execution_options(**{BEGIN_OPTION: "EXCLUSIVE"})
            with (
                engine.connect() as connection,
                _sqlite_foreign_keys_off(connection, sqlite),
                connection.begin(),
            ):
                if not sqlite:
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY}
                    )
                config = _alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:  # rolls the whole upgrade back
                        raise StorageUnavailable(
                            f"the schema upgrade would break {len(broken)} reference(s), "
                            f"e.g. {tuple(broken[0])}; nothing was changed"
                        )

    def current_revision(self) -> str | None:
        """The schema revision the database is at (None: never initialised)."""
        with storage_errors(), self.engine.connect() as connection:
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
            descriptor = os.open(f"{path}.migrate.lock", os.O_RDWR | os.O_CREAT, PRIVATE_FILE_MODE)
            handle = os.fdopen(descriptor, "r+b")
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


def _make_private(path: Path) -> None:
    """Create the SQLite file (and tighten it and its ``-wal``/``-shm``) with mode 0600.

    An existing file is never opened here, only changed by name: closing any descriptor of a
    SQLite file drops every POSIX lock the process holds on it, including those of other
    connections (SQLite's "how to corrupt" notes). SQLite makes ``-wal`` and ``-shm`` with
    the database file's mode. A file that cannot be made or changed (a missing folder,
    someone else's file) is left to SQLite, which then reports the problem as it always does.
    """
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE))
    except FileExistsError:
        pass
    except OSError:
        return
    for name in (str(path), f"{path}-wal", f"{path}-shm"):
        try:
            if stat.S_IMODE(os.stat(name).st_mode) & 0o077:
                os.chmod(name, PRIVATE_FILE_MODE)
        except OSError:
            pass  # not there (yet), or not ours to change


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
