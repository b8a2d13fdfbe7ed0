"""Handing outbox rows to RQ: right after a commit, and again by the relay.

A job carries only the row's delivery id — the random UUID the row got at insert — and is
addressed by it (``<prefix>-outbox-<uuid>``), so enqueueing the same row twice — a relay
racing a request, an operator's retry — never makes two different deliveries: the job reloads
the row and skips what is done (``workers.jobs``). Integer ids start again after a database
restore and repeat across installations; the UUID does neither, so an old job, lock or
receipt left in Redis can never be taken for a new notification's. The queue and every key
start with ``FORMFLOW_REDIS_PREFIX`` (:class:`RedisNames`), so installations sharing one
Redis keep apart.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from engine.exceptions import FormflowError
from engine.services import Database, mark_enqueued, mark_enqueued_many, notifications_to_enqueue
from workers.settings import DEFAULT_JOB_TIMEOUT, DEFAULT_REDIS_PREFIX, RETRY_INTERVALS

__all__ = [
    "JOB_FUNCTION",
    "QUEUE_NAME",
    "RedisNames",
    "RelayReport",
    "enqueue_delivery",
    "enqueue_notifications",
    "notification_queue",
    "relay_outbox",
]

log = logging.getLogger(__name__)

QUEUE_NAME = "notifications"
"""The queue's name after the prefix: ``formflow-notifications`` by default."""
JOB_FUNCTION = "workers.jobs.deliver"
"""Named, not imported: RQ resolves it in the worker, and producers need not load the job."""
_TERMINAL_JOB_STATES = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED,
                        JobStatus.CANCELED}


@dataclass(frozen=True, slots=True)
class RedisNames:
    """One installation's names in Redis: its queue, and per notification (by delivery id)
    the RQ job id, the delivery lock, the receipt of a send and the count of interrupted runs.
    """

    prefix: str = DEFAULT_REDIS_PREFIX

    @property
    def queue(self) -> str:
        return f"{self.prefix}-{QUEUE_NAME}"

    def job_id(self, delivery_id: str) -> str:
        return f"{self.prefix}-outbox-{delivery_id}"

    def lock_key(self, delivery_id: str) -> str:
        return f"{self.prefix}:outbox:{delivery_id}:delivering"

    def receipt_key(self, delivery_id: str) -> str:
        return f"{self.prefix}:outbox:{delivery_id}:sent"

    def interrupted_key(self, delivery_id: str) -> str:
        return f"{self.prefix}:outbox:{delivery_id}:interrupted"

    def test_kill_key(self, point: str, delivery_id: str) -> str:
        return f"{self.prefix}:test:killed:{point}:{delivery_id}"


def notification_queue(connection: Redis, names: RedisNames | None = None) -> Queue:
    return Queue((names or RedisNames()).queue, connection=connection)


def _retry(intervals: tuple[int, ...]) -> Retry | None:
    return Retry(max=len(intervals), interval=list(intervals)) if intervals else None


def _job_data(
    names: RedisNames, delivery_id: str, retry_intervals: tuple[int, ...], job_timeout: int
) -> Any:
    return Queue.prepare_data(
        JOB_FUNCTION, (delivery_id,),
        job_id=names.job_id(delivery_id),
        timeout=job_timeout,
        retry=_retry(retry_intervals),
        description=f"deliver notification {delivery_id}",
    )


def enqueue_delivery(
    queue: Queue,
    delivery_id: str,
    *,
    names: RedisNames | None = None,
    retry_intervals: tuple[int, ...] = RETRY_INTERVALS,
    job_timeout: int = DEFAULT_JOB_TIMEOUT,
) -> Job:
    """Enqueue the job for one outbox row (an RQ call; raises ``RedisError`` when down).

    A finished or failed job left under the same id (a retried notification) is deleted
    first, so the new job starts with a clean record and a full retry schedule.
    """
    names = names or RedisNames()
    try:
        old = Job.fetch(names.job_id(delivery_id), connection=queue.connection)
    except NoSuchJobError:
        old = None
    if old is not None and old.get_status(refresh=False) in _TERMINAL_JOB_STATES:
        _delete(old)
    [job] = queue.enqueue_many([_job_data(names, delivery_id, retry_intervals, job_timeout)])
    return job


def enqueue_notifications(
    db: Database,
    connection: Redis,
    delivery_ids: Iterable[str],
    *,
    names: RedisNames | None = None,
    retry_intervals: tuple[int, ...] = RETRY_INTERVALS,
    job_timeout: int = DEFAULT_JOB_TIMEOUT,
) -> int:
    """Enqueue rows a committed transaction made due; how many are in the queue now.

    New rows cost two Redis round trips for all of them (is there a job under this id
    already? enqueue) and one transaction to mark them ``enqueued``. A row given another try
    (``retry_notification``) may still have its old job: a finished one is removed first, so
    the new job starts clean; one still waiting or running is left alone — a second copy would
    only be skipped. Never raises for Redis or database trouble: rows that could not be
    enqueued stay ``pending`` and the relay picks them up, so a web request can call this after
    its commit without risking the 201 it already owes.
    """
    ids = list(delivery_ids)
    if not ids:
        return 0
    names = names or RedisNames()
    queue = notification_queue(connection, names)
    try:
        with connection.pipeline(transaction=False) as pipeline:
            for delivery_id in ids:
                pipeline.exists(Job.key_for(names.job_id(delivery_id)))
            present = pipeline.execute()
        new = [delivery_id for delivery_id, found in zip(ids, present, strict=True)
               if not found or _live_job(connection, names, delivery_id) is None]
        if new:
            queue.enqueue_many([_job_data(names, i, retry_intervals, job_timeout)
                                for i in new])
    except RedisError as exc:
        log.warning("notifications %s left for the relay: Redis: %s", ids, exc)
        return 0
    try:
        mark_enqueued_many(db, ids)
    except FormflowError as exc:
        # The jobs are queued; the rows stay pending and a relay re-enqueue is harmless.
        log.warning("notifications %s enqueued but not marked: %s", ids, exc)
    return len(ids)


@dataclass(frozen=True, slots=True)
class RelayReport:
    enqueued: int = 0
    """``pending`` rows handed to the queue."""
    requeued: int = 0
    """``enqueued`` rows whose RQ job had vanished or ended without recording a result."""


def _live_job(connection: Redis, names: RedisNames, delivery_id: str) -> Job | None:
    """The row's job if it is still waiting, running or scheduled; a leftover is deleted."""
    try:
        job = Job.fetch(names.job_id(delivery_id), connection=connection)
    except NoSuchJobError:
        return None
    if job.get_status(refresh=False) not in _TERMINAL_JOB_STATES:
        return job
    _delete(job)
    return None


def _delete(job: Job) -> None:
    """Remove a finished job and its registry entries before its id is used again.

    RQ's ``Job.delete`` can fail on the leftovers of a job whose worker was killed (its
    execution record expired first); the job's own key is what matters, so that goes anyway.
    """
    try:
        job.delete()
    except RedisError:
        raise
    except Exception as exc:
        log.warning("job %s: RQ could not clean up after it (%s); removing its key", job.id, exc)
        job.connection.delete(job.key)


def relay_outbox(
    db: Database,
    connection: Redis,
    *,
    names: RedisNames | None = None,
    older_than: timedelta = timedelta(seconds=30),
    stale_after: timedelta = timedelta(seconds=60),
    limit: int = 500,
    retry_intervals: tuple[int, ...] = RETRY_INTERVALS,
    job_timeout: int = DEFAULT_JOB_TIMEOUT,
) -> RelayReport:
    """Enqueue what a failed enqueue left behind; safe to run any number of times at once.

    ``older_than`` leaves fresh ``pending`` rows to the request that wrote them. An
    ``enqueued`` row older than ``stale_after`` whose job is gone or over is enqueued again:
    a job is created before its row is marked, and a finished job has recorded its row, so
    such a row means Redis lost its data (restarted without persistence, flushed, failed
    over). Jobs still queued, running or scheduled are left alone — a job whose worker died
    is RQ's to recover. Raises ``RedisError`` when Redis is down.
    """
    names = names or RedisNames()
    queue = notification_queue(connection, names)
    enqueued = requeued = 0
    for row in notifications_to_enqueue(db, older_than=older_than, limit=limit):
        if _live_job(connection, names, row.delivery_id) is None:  # else: the mark was lost
            enqueue_delivery(queue, row.delivery_id, names=names,
                             retry_intervals=retry_intervals, job_timeout=job_timeout)
            enqueued += 1
        mark_enqueued(db, row.id)
    with db.read() as store:
        cutoff = store.now - stale_after
        in_flight = store.outbox.with_status(["enqueued"], created_before=cutoff, limit=limit)
    for row in in_flight:
        if _live_job(connection, names, row.delivery_id) is not None:
            continue  # queued, running, scheduled for a retry or deferred: leave it be
        enqueue_delivery(queue, row.delivery_id, names=names, retry_intervals=retry_intervals,
                         job_timeout=job_timeout)
        requeued += 1
    if enqueued or requeued:
        log.info("outbox relay: %d enqueued, %d re-enqueued", enqueued, requeued)
    return RelayReport(enqueued, requeued)
