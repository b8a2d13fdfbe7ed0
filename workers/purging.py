"""The scheduled purge: retention, draft expiry and the audit log's own retention, daily.

One RQ job under a fixed id (``<prefix>-purge``) runs ``engine.services.purge`` and then
schedules its next run with ``Queue.enqueue_in`` under the same id, so there is one chain
however many workers run: a job id names one job in Redis, and scheduling an id that is
already scheduled only moves its time. Every worker's maintenance round (RQ's, in the
worker's main process) starts the chain when it finds no run scheduled, queued or running —
the first start, or after Redis lost its data. The job keeps its hash (``result_ttl=-1``)
because the next run is the same job. The purge itself is idempotent: two runs at once
would erase nothing twice.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from redis import Redis
from rq import Queue, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

from engine.exceptions import FormflowError
from engine.services import purge

__all__ = ["PURGE_FUNCTION", "purge_job_id", "purge_personal_data", "schedule_purge"]

log = logging.getLogger(__name__)

PURGE_FUNCTION = "workers.purging.purge_personal_data"
_WAITING = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def purge_job_id(prefix: str) -> str:
    return f"{prefix}-purge"


def schedule_purge(queue: Queue, prefix: str, *, first_in: timedelta) -> bool:
    """Start the chain unless a run is scheduled, queued or running; True if it started."""
    job_id = purge_job_id(prefix)
    scheduled: ScheduledJobRegistry = queue.scheduled_job_registry
    if job_id in scheduled:
        return False
    try:
        status = Job.fetch(job_id, connection=queue.connection).get_status()
    except NoSuchJobError:
        status = None
    if status in _WAITING:
        return False
    _enqueue(queue, job_id, first_in)
    return True


def _enqueue(queue: Queue, job_id: str, delay: timedelta) -> None:
    queue.enqueue_in(delay, PURGE_FUNCTION, job_id=job_id, result_ttl=-1,
                     description="purge personal data past retention")


def purge_personal_data() -> str:
    """The RQ job: purge now, then schedule the next run (also when this one failed)."""
    from workers.jobs import configured_settings, process_database

    settings = configured_settings()
    try:
        report = purge(process_database(settings), settings.retention)
        outcome = "; ".join(report.lines()[-1:])
        log.info("purge: %s", outcome)
    except FormflowError as exc:
        outcome = f"purge failed this time: {exc}"
        log.warning("%s", outcome)
    finally:
        job = get_current_job()
        if job is not None:
            connection: Redis = job.connection
            _enqueue(Queue(job.origin, connection=connection), job.id, settings.purge_every)
    return outcome
