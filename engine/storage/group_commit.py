"""Group commit: concurrent writers of one process share a SQLite write transaction.

A durable SQLite commit costs far more than the rows in it: every B-tree a row touches adds
a page to the write-ahead log, and the commit syncs the log to disk. A submission touches
about a dozen B-trees (the submission and its indexes, its audit event, its outbox rows, the
reference counter), so its commit writes ~18 pages and one ``fsync`` — while the write turn
is held, so that every other writer waits for it. Submissions that arrive while another
one waits for the turn, or while it runs the works of its transaction, are therefore stored
by that one (the *leader*) in the *same* transaction: they share the counter page, the
right-hand pages of the tables and time-ordered indexes, ``BEGIN``/``COMMIT``, the pool
checkout, the reads a transaction may repeat (``Unit.memo``) and the sync. Those arriving
during its commit wait for it and then lead the next transaction.

What a caller sees does not change:

* its work runs exactly once in a committed transaction, or it gets an error and nothing of
  its work is stored;
* it returns only after the commit that holds its rows (a ``201`` is never answered for a
  row that a crash could still lose);
* one failing piece of work never fails another: when any work of a batch raises, the
  whole transaction is rolled back and every piece of work of that batch runs again alone,
  in a transaction of its own, in its caller's thread — exactly as without grouping. (A
  failure is rare — a republished form, a database error — so this costs nothing in the
  common case, where savepoints would cost two statements per submission.)
* the post-commit hook (notifications made due) runs in each caller's own thread, after
  the commit and after the turn is given back.

Only threads of one process can share a connection, so this groups the threads of one
worker; between processes the write turn (``writer_turn``) still orders the commits. Work
given here must only use its ``Store`` (no transactions of its own, no other locks), may run
in another thread than its caller's, and must be safe to run again after a rollback.
PostgreSQL needs none of this (its writers do not exclude each other);
``Database.grouped`` runs work there in a driver transaction of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar, cast

from engine.exceptions import StorageUnavailable

if TYPE_CHECKING:
    from engine.storage.driver import DriverTransaction
    from engine.storage.store import Store

__all__ = ["MAX_BATCH", "GroupCommit"]

T = TypeVar("T")

MAX_BATCH = 32
"""Works stored in one transaction at most: bounds how long one commit holds the turn."""


class _Job:
    """One caller's work: waiting to be stored by a leader, or to lead."""

    __slots__ = ("done", "due", "error", "lead", "result", "retry_alone", "work")

    def __init__(self, work: Callable[[Store], object]) -> None:
        self.work = work
        self.done = threading.Lock()
        self.done.acquire()  # released once the outcome is known, or the job is to lead
        self.lead = False
        self.retry_alone = False
        self.result: object = None
        self.error: BaseException | None = None
        self.due: list[int] = []


class GroupCommit:
    """The grouping of one SQLite database's submission writes in this process.

    ``transaction`` makes the driver transaction a leader stores its batch in (it waits for
    the write turn and gives it back); ``alone`` runs one work in a write transaction of its
    own (post-commit hook included); ``committed`` is the post-commit hook for a work stored
    in a batch.
    """

    def __init__(
        self,
        *,
        transaction: Callable[[], DriverTransaction],
        alone: Callable[[Callable[[Store], object]], object],
        committed: Callable[[list[int]], None],
    ) -> None:
        self._transaction = transaction
        self._alone = alone
        self._committed = committed
        self._mutex = threading.Lock()
        self._pending: list[_Job] = []
        self._leading = False
        self.batches = 0
        """Transactions committed by leaders so far (for tests and benchmarks)."""
        self.stored = 0
        """Works committed in those transactions."""

    def run(self, work: Callable[[Store], T]) -> T:
        """Run ``work`` in a committed write transaction, perhaps shared; its result."""
        job = _Job(work)
        with self._mutex:
            self._pending.append(job)
            lead = not self._leading
            self._leading = True
        if not lead:
            job.done.acquire()
        if lead or job.lead:
            self._lead()
        if job.error is not None:
            raise job.error
        if job.retry_alone:
            return cast(T, self._alone(work))
        if job.due:
            self._committed(job.due)
        return cast(T, job.result)

    @property
    def waiting(self) -> int:
        """Works queued for the next batch (for tests)."""
        with self._mutex:
            return len(self._pending)

    def _lead(self) -> None:
        """Store the oldest waiting works in one transaction, then hand on.

        The leader's own job is the oldest waiting one (a new leader finds the queue empty,
        a promoted one is its head), so it is always in the batch it stores."""
        batch: list[_Job] = []
        try:
            self._store(batch)
        finally:
            self._hand_on(batch)

    def _take(self, limit: int = MAX_BATCH) -> list[_Job]:
        with self._mutex:
            batch, self._pending = self._pending[:limit], self._pending[limit:]
        return batch

    def _store(self, batch: list[_Job]) -> None:
        """Fill ``batch`` once the transaction holds the turn, run its works, commit."""
        transaction = self._transaction()
        stores: list[Store] = []
        try:
            with transaction as first:
                batch.extend(self._take())  # the turn is ours: all that queued meanwhile
                for job in batch:  # grows while it runs: works queued meanwhile join
                    store = first if not stores else transaction.another_store()
                    stores.append(store)
                    job.result = job.work(store)
                    if job is batch[-1] and len(batch) < MAX_BATCH:
                        batch.extend(self._take(MAX_BATCH - len(batch)))
        except BaseException as exc:
            if not stores:  # never began: the turn did not come, or the database is away
                batch.extend(self._take())
                _begin_failed(batch, exc)
            elif len(batch) == 1:  # exactly what a transaction of its own would have raised
                batch[0].error = exc
            else:
                for job in batch:  # rolled back whole: each work runs again, alone
                    job.retry_alone = True
                if not isinstance(exc, Exception):
                    batch[0].error = exc  # an interrupt of the leader's thread stays its own
            return
        for job, store in zip(batch, stores, strict=True):
            job.due = store.outbox.due
        self.batches += 1
        self.stored += len(batch)

    def _hand_on(self, batch: list[_Job]) -> None:
        """Wake the batch's other callers, and make the next waiting one the leader."""
        with self._mutex:
            successor = self._pending[0] if self._pending else None
            if successor is None:
                self._leading = False
            else:
                successor.lead = True
        for job in batch[1:]:
            job.done.release()
        if successor is not None:
            successor.done.release()


def _begin_failed(batch: list[_Job], exc: BaseException) -> None:
    """Nothing of the batch ran: the leader gets the error; the others waited as long (the
    turn) or would meet the same database, so they get a "busy"/"unavailable" error of their
    own — unless the error is no storage error, then they try alone."""
    leader, others = batch[0], batch[1:]
    leader.error = exc
    for job in others:
        if isinstance(exc, StorageUnavailable):
            job.error = StorageUnavailable(str(exc))
        else:
            job.retry_alone = True
