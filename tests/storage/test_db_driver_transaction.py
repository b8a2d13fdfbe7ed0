"""The driver transaction (``Database.transaction(orm=False)``): prepared statements only.

It must behave as the ORM transaction does — commit at the end, roll back on any error, the
post-commit hook with the outbox ids, a usable pooled connection afterwards — and refuse,
loudly and before anything is committed, every repository method that needs the ORM.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from engine.services import (
    get_submission,
    import_definition,
    publish_form,
    publish_workflow,
    submit,
)
from engine.storage import Database, OutboxRecord, Store
from engine.storage.editing import editing_of
from engine.storage.inbox import inbox_of
from engine.storage.records import OutboxEntry
from engine.storage.unit import SessionUnavailable
from support.storage import FORM, VALID_ANSWERS, WORKFLOW


def _add_submission(db: Database, store: Store, submission_id: str, number: int) -> None:
    """A submission row through the prepared INSERT (the versions read beforehand: reading
    them is an ORM query, which the driver transaction would refuse)."""
    with db.read() as read:
        form = read.definitions.published("form", "membership")
        workflow = read.definitions.published("workflow", "review")
    assert form is not None and workflow is not None
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


def _rows(db: Database, store_read: Any) -> Any:
    with db.read() as store:
        return store_read(store)


def test_orm_statements_are_refused_and_nothing_is_kept(published_db: Database) -> None:
    db = published_db
    refused = pytest.raises(SessionUnavailable, match=r"open it with Database\.transaction\(\)")
    with refused, db.transaction(orm=False) as store:
        assert store.submissions.next_reference_number("M", 2026) == 1  # prepared: fine
        store.submissions.get("nope")  # an ORM query: refused
    with pytest.raises(SessionUnavailable), db.transaction(orm=False) as store:
        editing_of(store)  # the editor's repository is ORM throughout
    with pytest.raises(SessionUnavailable), db.transaction(orm=False) as store:
        inbox_of(store)
    # The refused transaction was rolled back: the counter starts again at 1.
    created = submit(db, "membership", VALID_ANSWERS, "de")
    assert get_submission(db, created.id).reference == "M-2026-00001"


def test_it_commits_and_calls_the_hook_after_commit(published_db: Database) -> None:
    db = published_db
    seen: list[tuple[list[int], list[OutboxRecord]]] = []

    def hook(ids: list[int]) -> None:
        # Called after the commit: another transaction already sees the rows.
        seen.append((ids, _rows(db, lambda store: store.outbox.for_submission("s1"))))

    db.on_outbox_committed = hook
    with db.transaction(orm=False) as store:
        _add_submission(db, store, "s1", 1)
        event = store.events.add(submission_id="s1", kind="created", actor="applicant",
                                 to_state="submitted")
        added = store.outbox.add_many([
            OutboxEntry(submission_id="s1", event_id=event.id, channel="mail",
                        recipient="ada@example.org", role="applicant", url=None,
                        secret_env=None, template="received", language="de",
                        delivery_key="k1"),
        ])
    assert [ids for ids, _ in seen] == [[added[0].id]]
    assert [row.id for row in seen[0][1]] == [added[0].id]
    assert get_submission(db, "s1").answers == {"name": "Ada"}


def test_any_error_rolls_back_and_the_connection_stays_usable(published_db: Database) -> None:
    db = published_db
    calls: list[list[int]] = []
    db.on_outbox_committed = calls.append
    with pytest.raises(RuntimeError, match="a bug"), db.transaction(orm=False) as store:
        _add_submission(db, store, "s1", 1)
        raise RuntimeError("a bug in the middle of a write")
    # A failing statement (PostgreSQL: the transaction is aborted until rolled back).
    with pytest.raises(IntegrityError), db.transaction(orm=False) as store:
        _add_submission(db, store, "s2", 2)
        _add_submission(db, store, "s2", 3)  # the same id again
    assert _rows(db, lambda store: store.submissions.count()) == 0
    assert calls == []
    for _ in range(3):  # the pooled connections were rolled back, not left mid-transaction
        submit(db, "membership", VALID_ANSWERS, "de")
    assert _rows(db, lambda store: store.submissions.count()) == 3



def test_every_timestamp_is_the_transactions_own(published_db: Database, clock: Any) -> None:
    """Timestamp conversions are remembered across statements (``prepared._converter``):
    each transaction's rows must still carry its own time, NULLs staying NULL."""
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


def test_a_failure_while_starting_gives_turn_and_connection_back(database_url: str) -> None:
    """No ``__exit__`` follows a failed ``__enter__``: the turn, the connection and its begun
    transaction must be given back there, or the next writer waits for the busy timeout."""
    broken = [False]

    def clock() -> datetime:
        if broken[0]:
            raise RuntimeError("the clock broke")
        return datetime.now(UTC)

    db = Database(database_url, clock=clock, busy_timeout_ms=300)
    db.upgrade()
    import_definition(db, WORKFLOW, "workflow")
    publish_workflow(db, "review")
    import_definition(db, FORM, "form")
    publish_form(db, "membership")
    broken[0] = True
    with pytest.raises(RuntimeError, match="clock"), db.transaction(orm=False):
        pass
    broken[0] = False
    outcome: list[Any] = []
    writer = threading.Thread(  # another thread: a turn left held would make it wait
        target=lambda: outcome.append(submit(db, "membership", VALID_ANSWERS, "de"))
    )
    writer.start()
    writer.join(timeout=30)
    assert len(outcome) == 1 and outcome[0].reference.endswith("-00001")
    db.dispose()
