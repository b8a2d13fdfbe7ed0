"""SQLite writers queue for the write turn across threads and processes (``writer_turn``).

Real processes and threads write to one SQLite file at once; another process really holds
the turn's file lock. Checked: every submission succeeds with its own reference, the turn is
given back when a transaction fails, and a stuck holder makes writers fail with the usual
"busy" :class:`StorageUnavailable` after the busy timeout instead of waiting forever.
"""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import sqlite3
import time
from pathlib import Path

import pytest

from engine.exceptions import StorageUnavailable
from engine.services import (
    get_submission,
    submit,
)
from support.storage import (
    VALID_ANSWERS,
    published_sqlite,
    submit_in_threads,
    writer_lock_holder,
)


def _lock_is_free(lock_path: Path) -> bool:
    """Whether a newcomer (its own descriptor, as another process would have) gets the lock."""
    descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)  # also drops the lock if it was taken
    return True


def _eventually_free(lock_path: Path, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not _lock_is_free(lock_path):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_writers_of_several_processes_and_threads_all_succeed(tmp_path: Path) -> None:
    path = tmp_path / "formflow.db"
    db = published_sqlite(path)
    url = f"sqlite:///{path}"
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(3), context.Queue()
    processes = [
        context.Process(target=submit_in_threads, args=(url, 3, 8, barrier, results))
        for _ in range(3)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    references = [reference for outcome in outcomes for reference in outcome]
    assert len(references) == len(set(references)) == 3 * (1 + 3 * 8), outcomes
    assert all(reference.startswith("M-2026-") for reference in references), outcomes
    assert Path(f"{path}.writer.lock").exists()  # they queued on the shared lock file
    assert _lock_is_free(Path(f"{path}.writer.lock"))
    db.dispose()


def test_the_turn_is_given_back_when_a_transaction_fails(tmp_path: Path) -> None:
    path = tmp_path / "formflow.db"
    db = published_sqlite(path, busy_timeout_ms=300)
    lock_path = Path(f"{path}.writer.lock")

    for orm in (True, False):  # both kinds of write transaction
        with pytest.raises(RuntimeError), db.transaction(orm=orm):
            assert not _lock_is_free(lock_path)  # held for the transaction
            raise RuntimeError("a bug in the middle of a write")
        assert _lock_is_free(lock_path)

    blocker = sqlite3.connect(path, isolation_level=None)  # a writer that does not queue
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StorageUnavailable, match="busy"):
            submit(db, "membership", VALID_ANSWERS, "de")  # fails inside BEGIN IMMEDIATE
        assert _lock_is_free(lock_path)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    created = submit(db, "membership", VALID_ANSWERS, "de")
    assert get_submission(db, created.id).reference == "M-2026-00001"
    db.dispose()


def test_a_stuck_holder_gives_busy_after_the_timeout_not_a_hang(tmp_path: Path) -> None:
    path = tmp_path / "formflow.db"
    db = published_sqlite(path, busy_timeout_ms=300)
    lock_path = Path(f"{path}.writer.lock")
    holder, release = writer_lock_holder(lock_path)
    try:
        for _ in range(2):  # the second waits behind the first's abandoned wait: also bounded
            started = time.monotonic()
            with pytest.raises(StorageUnavailable, match="busy"):
                submit(db, "membership", VALID_ANSWERS, "de")
            assert 0.25 <= time.monotonic() - started < 5
    finally:
        release.set()
        holder.join(timeout=60)
    assert _eventually_free(lock_path)  # the abandoned waits did not keep the lock
    created = submit(db, "membership", VALID_ANSWERS, "de")
    assert get_submission(db, created.id).reference == "M-2026-00001"
    db.dispose()


def test_a_holder_that_dies_frees_the_turn(tmp_path: Path) -> None:
    path = tmp_path / "formflow.db"
    db = published_sqlite(path, busy_timeout_ms=10_000)
    holder, _ = writer_lock_holder(Path(f"{path}.writer.lock"))
    holder.kill()
    holder.join(timeout=60)
    started = time.monotonic()
    submit(db, "membership", VALID_ANSWERS, "de")
    assert time.monotonic() - started < 5
    db.dispose()
