"""The write transaction: all or nothing, the post-commit hook, writers queueing, crashes.

Every test runs on SQLite and PostgreSQL unless it is about a SQLite setting.
"""

from __future__ import annotations

import multiprocessing
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from engine.exceptions import StorageUnavailable
from engine.records import OutboxEntry, OutboxRecord
from engine.services import Database, get_submission, submit
from support.storage import VALID_ANSWERS, published_sqlite, submit_in_threads, write_then_hang


def _add_submission(store: Any, submission_id: str, number: int) -> None:
    form = store.definitions.published("form", "membership")
    workflow = store.definitions.published("workflow", "review")
    store.submissions.add(
        submission_id=submission_id,
        reference=f"M-2026-{number:05d}",
        form_id="membership",
        form_version_row=form.row_id,
        form_version=form.version,
        workflow_version_row=workflow.row_id,
        workflow_id="review",
        workflow_version=workflow.version,
        state="submitted",
        token_hash=submission_id * 2,
        answers={"name": "Ada"},
        language="de",
    )


def _count_submissions(db: Database) -> int:
    with db.read() as store:
        return store.submissions.count()


def test_it_commits_and_calls_the_hook_after_commit(published_db: Database) -> None:
    db = published_db
    seen: list[tuple[list[int], list[OutboxRecord]]] = []

    def hook(ids: list[str]) -> None:
        # Called after the commit: another transaction already sees the rows.
        with db.read() as store:
            seen.append((ids, store.outbox.for_submission("s1")))

    db.on_outbox_committed = hook
    with db.transaction() as store:
        _add_submission(store, "s1", 1)
        event = store.events.add(submission_id="s1", kind="created", actor="applicant",
                                 to_state="submitted")
        added = store.outbox.add_many([
            OutboxEntry(submission_id="s1", event_id=event.id, channel="mail",
                        recipient="ada@example.org", role="applicant", template="received",
                        language="de", delivery_key="k1"),
            OutboxEntry(submission_id="s1", event_id=event.id, channel="webhook",
                        url="https://example.org/hook", language="de", delivery_key="k2"),
        ])
    assert [o.delivery_key for o in added] == ["k1", "k2"]
    assert [ids for ids, _ in seen] == [[added[0].delivery_id, added[1].delivery_id]]
    assert [row.id for row in seen[0][1]] == [added[0].id, added[1].id]
    assert get_submission(db, "s1").answers == {"name": "Ada"}


def test_any_error_rolls_back_and_the_connection_stays_usable(published_db: Database) -> None:
    db = published_db
    calls: list[list[str]] = []
    db.on_outbox_committed = calls.append
    with pytest.raises(RuntimeError, match="a bug"), db.transaction() as store:
        _add_submission(store, "s1", 1)
        raise RuntimeError("a bug in the middle of a write")
    # A failing statement (PostgreSQL: the transaction is aborted until rolled back).
    with pytest.raises(IntegrityError), db.transaction() as store:
        _add_submission(store, "s2", 2)
        _add_submission(store, "s2", 3)  # the same id again
    assert _count_submissions(db) == 0
    assert calls == []
    for _ in range(3):  # the pooled connections were rolled back, not left mid-transaction
        submit(db, "membership", VALID_ANSWERS, "de")
    assert _count_submissions(db) == 3


def test_every_timestamp_is_the_transactions_own(published_db: Database, clock: Any) -> None:
    db = published_db
    first = submit(db, "membership", VALID_ANSWERS, "de")
    first_time = clock.now
    clock.advance(seconds=1.5)
    second = submit(db, "membership", VALID_ANSWERS, "de")
    for created, at in ((first, first_time), (second, clock.now)):
        submission = get_submission(db, created.id)
        assert submission.created_at == submission.updated_at == at
        with db.read() as store:
            events = store.events.for_submission(created.id)
            rows = store.outbox.for_submission(created.id)
        assert [event.at for event in events] == [at]
        assert rows and all(row.created_at == at and row.delivered_at is None for row in rows)


def test_a_writer_killed_inside_its_transaction_leaves_nothing(published_db: Database) -> None:
    """SIGKILL while a write transaction is open: none of its rows stay, its lock is freed."""
    db = published_db
    url = db.engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    writing = context.Event()
    writer = context.Process(target=write_then_hang, args=(url, writing))
    writer.start()
    try:
        assert writing.wait(timeout=60), "the writer never wrote"
    finally:
        writer.kill()
        writer.join(timeout=60)
    started = time.monotonic()
    created = submit(db, "membership", VALID_ANSWERS, "de")
    assert time.monotonic() - started < 5
    assert get_submission(db, created.id).reference == "M-2026-00001"
    with db.read() as store:
        assert store.accounts.user_by_email("ghost@example.org") is None


def test_writers_of_several_processes_and_threads_all_succeed(published_db: Database) -> None:
    url = published_db.engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(3), context.Queue()
    processes = [
        context.Process(target=submit_in_threads, args=(url, 3, 6, barrier, results))
        for _ in range(3)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    references = [reference for outcome in outcomes for reference in outcome]
    assert len(references) == len(set(references)) == 3 * (1 + 3 * 6), outcomes
    assert all(reference.startswith("M-2026-") for reference in references), outcomes


def test_a_sqlite_writer_waits_for_the_busy_timeout_then_gives_busy(tmp_path: Path) -> None:
    path = tmp_path / "formflow.db"
    db = published_sqlite(path, busy_timeout_ms=300)
    blocker = sqlite3.connect(path, isolation_level=None)  # another process writing
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with db.read() as store:  # WAL: readers are not blocked by the writer
            assert store.submissions.count() == 0
        started = time.monotonic()
        with pytest.raises(StorageUnavailable, match="busy"):
            submit(db, "membership", VALID_ANSWERS, "de")
        assert 0.25 <= time.monotonic() - started < 5
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    created = submit(db, "membership", VALID_ANSWERS, "de")
    assert get_submission(db, created.id).reference == "M-2026-00001"
    db.dispose()


def test_a_sqlite_write_transaction_holds_the_write_lock_from_its_start(tmp_path: Path) -> None:
    """``BEGIN IMMEDIATE``: the lock is taken when the transaction begins, before any write,
    so a second writer queues instead of failing half-way through."""
    path = tmp_path / "formflow.db"
    db = published_sqlite(path, busy_timeout_ms=300)
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        with db.transaction() as store:
            store.submissions.count()  # a read only: BEGIN DEFERRED would take no write lock
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
    finally:
        other.close()
    db.dispose()
