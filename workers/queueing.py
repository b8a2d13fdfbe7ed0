"""Handing outbox rows to RQ: right after a commit, and again by the relay.

A job carries only the outbox id and is addressed by it (``outbox-<id>``), so enqueueing the
same row twice — a relay racing a request, an operator's retry — never makes two different
deliveries: the job reloads the row and skips what is done (``workers.jobs``).
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
from workers.settings import DEFAULT_JOB_TIMEOUT, RETRY_INTERVALS

__all__ = [
    "JOB_FUNCTION",
    "QUEUE_NAME",
    "RelayReport",
    "enqueue_delivery",
    "enqueue_notifications",
    "job_id_for",
    "lock_key_for",
    "notification_queue",
    "receipt_key_for",
    "relay_outbox",
]

log = logging.getLogger(__name__)

QUEUE_NAME = "notifications"
JOB_FUNCTION = "workers.jobs.deliver"
"""Named, not imported: RQ resolves it in the worker, and producers need not load the job."""
_TERMINAL_JOB_STATES = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED,
                        JobStatus.CANCELED}


def notification_queue(connection: Redis) -> Queue:
    return Queue(QUEUE_NAME, connection=connection)


def job_id_for(outbox_id: int | str) -> str:
    return f"outbox-{outbox_id}"


def lock_key_for(outbox_id: int | str) -> str:
    return f"formflow:outbox:{outbox_id}:delivering"


def receipt_key_for(outbox_id: int | str) -> str:
    return f"formflow:outbox:{outbox_id}:sent"


def _retry(intervals: tuple[int, ...]) -> Retry | None:
    return Retry(max=len(intervals), interval=list(intervals)) if intervals else None


def _job_data(
    outbox_id: int | str, retry_intervals: tuple[int, ...], job_timeout: int
) -> Any:
    return Queue.prepare_data(
        JOB_FUNCTION, (str(outbox_id),),
        job_id=job_id_for(outbox_id),
        timeout=job_timeout,
        retry=_retry(retry_intervals),
        description=f"deliver notification {outbox_id}",
    )


def enqueue_delivery(
    queue: Queue,
    outbox_id: int | str,
    *,
    retry_intervals: tuple[int, ...] = RETRY_INTERVALS,
    job_timeout: int = DEFAULT_JOB_TIMEOUT,
) -> Job:
    """Enqueue the job for one outbox row (an RQ call; raises ``RedisError`` when down).

    A finished or failed job left under the same id (a retried notification) is deleted
    first, so the new job starts with a clean record and a full retry schedule.
    """
    try:
        old = Job.fetch(job_id_for(outbox_id), connection=queue.connection)
    except NoSuchJobError:
        old = None
    if old is not None and old.get_status(refresh=False) in _TERMINAL_JOB_STATES:
        _delete(old)
    [job] = queue.enqueue_many([_job_data(outbox_id, retry_intervals, job_timeout)])
    return job


def enqueue_notifications(
    db: Database,
    connection: Redis,
    outbox_ids: Iterable[int],
    *,
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
    ids = list(outbox_ids)
    if not ids:
        return 0
    queue = notification_queue(connection)
    try:
        with connection.pipeline(transaction=False) as pipeline:
            for outbox_id in ids:
                pipeline.exists(Job.key_for(job_id_for(outbox_id)))
            present = pipeline.execute()
        new = [outbox_id for outbox_id, found in zip(ids, present, strict=True)
               if not found or _live_job(connection, outbox_id) is None]
        if new:
            queue.enqueue_many([_job_data(i, retry_intervals, job_timeout) for i in new])
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


def _live_job(connection: Redis, outbox_id: int) -> Job | None:
    """The row's job if it is still waiting, running or scheduled; a leftover is deleted."""
    try:
        job = Job.fetch(job_id_for(outbox_id), connection=connection)
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
    queue = notification_queue(connection)
    enqueued = requeued = 0
    for row in notifications_to_enqueue(db, older_than=older_than, limit=limit):
        if _live_job(connection, row.id) is None:  # else: queued, but the mark was lost
            enqueue_delivery(queue, row.id, retry_intervals=retry_intervals,
                             job_timeout=job_timeout)
            enqueued += 1
        mark_enqueued(db, row.id)
    with db.read() as store:
        cutoff = store.now - stale_after
        in_flight = store.outbox.with_status(["enqueued"], created_before=cutoff, limit=limit)
    for row in in_flight:
        if _live_job(connection, row.id) is not None:
            continue  # queued, running, scheduled for a retry or deferred: leave it be
        enqueue_delivery(queue, row.id, retry_intervals=retry_intervals, job_timeout=job_timeout)
        requeued += 1
    if enqueued or requeued:
        log.info("outbox relay: %d enqueued, %d re-enqueued", enqueued, requeued)
    return RelayReport(enqueued, requeued)
