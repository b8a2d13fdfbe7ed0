"""Concurrent submissions of one process share a SQLite commit (``group_commit``).

Another process really holds the write turn while threads queue their submissions, so the
batch they form is known; then it lets go. Checked: they are stored in ONE transaction, each
caller returns only once its row is committed (another connection sees it), one failing
work fails alone, a turn that never comes fails every waiting caller with the usual "busy"
error (and the next caller leads again), and a process killed between writing a batch and
committing it leaves nothing of the batch behind.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.exceptions import StorageUnavailable
from engine.services import get_submission, submit
from engine.storage import Database, Store
from support.storage import (
    VALID_ANSWERS,
    published_sqlite,
    submit_then_die_in_a_batch,
    writer_lock_holder,
)


def _queued(db: Database, count: int) -> None:
    assert db.group_commit is not None
    deadline = time.monotonic() + 30
    while db.group_commit.waiting < count:
        assert time.monotonic() < deadline, f"only {db.group_commit.waiting} queued"
        time.sleep(0.005)


def _in_threads(calls: list[Callable[[], Any]], db: Database, release: Any) -> list[Any]:
    """Start the calls one after the other (each queued before the next starts), let the
    turn go, and return each call's result or the exception it raised."""
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        try:
            outcomes[index] = calls[index]()
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for count, thread in enumerate(threads, start=1):
        thread.start()
        _queued(db, count)
    release.set()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a caller never returned"
    return outcomes


def _committed_elsewhere(path: Path, submission_id: str) -> bool:
    connection = sqlite3.connect(path)
    try:
        row = connection.execute(
            "SELECT count(*) FROM submissions WHERE id LIKE ?", (submission_id,)
        ).fetchone()
    finally:
        connection.close()
    return bool(row[0])


def test_waiting_submissions_are_stored_in_one_transaction(tmp_path: Path) -> None:
    path = tmp_path / "formflow.db"
    db = published_sqlite(path)
    assert db.group_commit is not None
    holder, release = writer_lock_holder(f"{path}.writer.lock")

    def submit_and_look() -> tuple[str, bool]:
        created = submit(db, "membership", VALID_ANSWERS, "de")
        return created.reference, _committed_elsewhere(path, created.id)

    try:
        outcomes = _in_threads([submit_and_look] * 3, db, release)
    finally:
        release.set()
        holder.join(timeout=60)
    assert sorted(reference for reference, _ in outcomes) == [
        "M-2026-00001", "M-2026-00002", "M-2026-00003"
    ]
    assert all(seen for _, seen in outcomes), "a caller returned before its commit"
    assert (db.group_commit.batches, db.group_commit.stored) == (1, 3)
    db.dispose()


def test_a_failing_work_fails_alone(tmp_path: Path) -> None:
    path = tmp_path / "formflow.db"
    db = published_sqlite(path)
    holder, release = writer_lock_holder(f"{path}.writer.lock")

    def number(store: Store) -> int:
        return store.submissions.next_reference_number("T", 2026)

    def number_then_fail(store: Store) -> int:
        number(store)
        raise ValueError("a bug in the middle of a batch")

    try:
        outcomes = _in_threads(
            [lambda: db.grouped(number), lambda: db.grouped(number_then_fail),
             lambda: db.grouped(number)],
            db, release,
        )
    finally:
        release.set()
        holder.join(timeout=60)
    assert isinstance(outcomes[1], ValueError)
    assert sorted([outcomes[0], outcomes[2]]) == [1, 2]  # the failed work's number undone
    assert db.grouped(number) == 3
    db.dispose()


def test_a_turn_that_never_comes_fails_every_waiting_caller(tmp_path: Path) -> None:
    path = tmp_path / "formflow.db"
    db = published_sqlite(path, busy_timeout_ms=1_000)
    holder, release = writer_lock_holder(f"{path}.writer.lock")
    calls = [lambda: submit(db, "membership", VALID_ANSWERS, "de")] * 3
    try:  # the holder keeps the turn until all three have given up
        outcomes = _in_threads(calls, db, threading.Event())
    finally:
        release.set()
        holder.join(timeout=60)
    assert all(
        isinstance(outcome, StorageUnavailable) and "busy" in str(outcome)
        for outcome in outcomes
    ), outcomes
    created = submit(db, "membership", VALID_ANSWERS, "de")  # leads again, not stuck
    assert get_submission(db, created.id).reference == "M-2026-00001"
    db.dispose()


def test_a_batch_killed_before_its_commit_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "formflow.db"
    db = published_sqlite(path)
    holder, release = writer_lock_holder(f"{path}.writer.lock")
    context = multiprocessing.get_context("spawn")
    both_waiting = context.Event()
    child = context.Process(
        target=submit_then_die_in_a_batch, args=(f"sqlite:///{path}", both_waiting)
    )
    child.start()
    try:
        assert both_waiting.wait(timeout=60), "the child's submissions never queued"
    finally:
        release.set()
        holder.join(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == -9  # killed by its second work, inside the batch
    assert not _committed_elsewhere(path, "%"), "a row of the killed batch was committed"
    created = submit(db, "membership", VALID_ANSWERS, "de")  # the counter was not advanced
    assert get_submission(db, created.id).reference == "M-2026-00001"
    db.dispose()


def test_postgresql_writers_do_not_group(postgres_schema_url: str) -> None:
    db = Database(postgres_schema_url)
    assert db.group_commit is None  # its writers do not exclude each other
    db.dispose()


def test_works_queued_while_a_batch_runs_join_it(tmp_path: Path) -> None:
    path = tmp_path / "formflow.db"
    db = published_sqlite(path)
    assert db.group_commit is not None
    late: list[int] = []

    def number(store: Store) -> int:
        return store.submissions.next_reference_number("T", 2026)

    def number_and_let_another_queue(store: Store) -> int:
        mine = number(store)
        other = threading.Thread(target=lambda: late.append(db.grouped(number)))
        other.start()
        _queued(db, 1)  # queued while this batch still runs
        return mine

    assert db.grouped(number_and_let_another_queue) == 1
    deadline = time.monotonic() + 30
    while not late:
        assert time.monotonic() < deadline, "the late work never returned"
        time.sleep(0.005)
    assert late == [2]
    assert (db.group_commit.batches, db.group_commit.stored) == (1, 2)
    db.dispose()
