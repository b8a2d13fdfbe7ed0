"""A database that is locked, gone or misaddressed: StorageUnavailable, then recovery.

Nothing is simulated: SQLite is really locked by another connection or really missing, and
PostgreSQL is really unreachable — through a TCP relay this test starts and stops.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.exceptions import StorageUnavailable
from engine.services import (
    Database,
    get_submission,
    import_definition,
    publish_form,
    publish_workflow,
    resume,
    save_draft,
    submit,
)
from support.postgres import POSTGRES_URL, require_postgres
from support.storage import FORM, VALID_ANSWERS, WORKFLOW


def _publish(db: Database) -> None:
    import_definition(db, WORKFLOW, "workflow")
    publish_workflow(db, "review")
    import_definition(db, FORM, "form")
    publish_form(db, "membership")


def test_a_locked_sqlite_database_is_unavailable_until_released(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    db = Database(f"sqlite:///{path}", busy_timeout_ms=200)
    db.upgrade()
    _publish(db)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holding the write lock
    try:
        with pytest.raises(StorageUnavailable, match="busy") as unavailable:
            submit(db, "membership", VALID_ANSWERS, "de")
        assert "Traceback" not in str(unavailable.value)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    created = submit(db, "membership", VALID_ANSWERS, "de")  # a later retry succeeds
    assert get_submission(db, created.id).reference == "M-2026-00001"
    db.dispose()


def test_a_vanished_sqlite_folder_is_unavailable_until_it_is_back(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    url = f"sqlite:///{folder / 'formflow.db'}"
    db = Database(url)
    db.upgrade()
    _publish(db)
    token = save_draft(db, "membership", {"name": "Ada"}).token
    db.dispose()
    folder.rename(tmp_path / "elsewhere")  # the volume is gone
    gone = Database(url)
    with pytest.raises(StorageUnavailable, match="cannot open"):
        submit(gone, "membership", VALID_ANSWERS, "de")
    with pytest.raises(StorageUnavailable, match="cannot open"):  # a read outside a transaction
        resume(gone, token)
    with pytest.raises(StorageUnavailable):
        gone.upgrade()
    (tmp_path / "elsewhere").rename(folder)  # and back
    created = submit(gone, "membership", VALID_ANSWERS, "de")
    assert get_submission(gone, created.id).state == "submitted"
    assert resume(gone, token).answers == {"name": "Ada"}
    gone.dispose()


def test_bad_urls_are_refused_clearly() -> None:
    with pytest.raises(StorageUnavailable, match="unsupported database"):
        Database("mysql://localhost/x")
    with pytest.raises(StorageUnavailable, match="not a usable database URL"):
        Database("this is not a url")


def test_an_unreachable_postgresql_server_is_unavailable() -> None:
    with socket.socket() as probe:  # a port on which nothing listens
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    db = Database(f"postgresql+psycopg://postgres@127.0.0.1:{port}/test")
    with pytest.raises(StorageUnavailable, match="unavailable") as unavailable:
        submit(db, "membership", VALID_ANSWERS, "de")
    assert "Traceback" not in str(unavailable.value)
    with pytest.raises(StorageUnavailable, match="unavailable"):
        resume(db, "a-token")
    db.dispose()


class TcpRelay:
    """Forwards a local port to PostgreSQL; ``stop`` cuts every connection like a dead server."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
            listener, self._listener = self._listener, None
        for sock in [*sockets, *([listener] if listener else [])]:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def relay() -> Iterator[TcpRelay]:
    require_postgres()
    relay = TcpRelay(("127.0.0.1", 5432))
    relay.start()
    yield relay
    relay.stop()


def test_postgresql_going_away_and_coming_back(
    relay: TcpRelay, postgres_schema_url: str
) -> None:
    assert "127.0.0.1:5432" in POSTGRES_URL
    url = postgres_schema_url.replace("127.0.0.1:5432", f"127.0.0.1:{relay.port}", 1)
    db = Database(url)
    db.upgrade()
    _publish(db)
    submit(db, "membership", VALID_ANSWERS, "de")  # the pool now holds a live connection
    token = save_draft(db, "membership", {"name": "Ada"}).token
    assert resume(db, token).answers == {"name": "Ada"}

    relay.stop()  # the server is gone: pooled connections die, new ones are refused
    with pytest.raises(StorageUnavailable):
        submit(db, "membership", VALID_ANSWERS, "de")
    with pytest.raises(StorageUnavailable):
        submit(db, "membership", VALID_ANSWERS, "de")
    with pytest.raises(StorageUnavailable):  # a read outside a transaction, too
        resume(db, token)

    relay.start()  # back on the same port
    assert resume(db, token).answers == {"name": "Ada"}
    created = submit(db, "membership", VALID_ANSWERS, "de")
    assert get_submission(db, created.id).reference == "M-2026-00002"
    db.dispose()
