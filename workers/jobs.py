"""Deliver outbox rows through RQ: the job, enqueueing, the relay, and the worker loop.

The database outbox is the truth; Redis only carries *which row to look at next*. A job holds
nothing but the outbox id and reloads everything, so a job enqueued twice, a job retried after a
crash, or a relay racing a web request all converge on the row's own status:

- ``sent`` or ``failed`` rows are skipped, so a second run never sends a second time;
- a per-row Redis lock stops two runs from sending at the same moment;
- a crash *between* a successful send and recording it resends once, with the same
  ``Message-ID`` / ``X-Formflow-Delivery`` so receivers can drop the duplicate (at least once,
  never silently zero times).

Permanent failures (template error, missing webhook secret, 4xx, SMTP 5xx) mark the row failed
at once. Transient ones count an attempt and raise, so RQ retries after 10 s, 30 s, 1 min,
5 min and 15 min (the worker must run with its scheduler for those waits); the last one marks
the row failed. Rows whose enqueue failed (Redis down) stay ``pending`` and the relay — run by
``formflow outbox relay`` and periodically by :func:`run_worker` — enqueues them later; it also
re-enqueues ``enqueued`` rows whose RQ job has vanished (a Redis that lost its data).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, Worker, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from engine.exceptions import FormflowError, NotFound, StorageUnavailable, TemplateFailed
from engine.services import (
    Delivery,
    delivery,
    mark_enqueued,
    mark_failed,
    mark_sent,
    notifications_to_enqueue,
)
from engine.storage import Database, SubmissionRecord
from engine.templating import render_template
from engine.text import localize
from workers.channels import (
    MailMessage,
    WebhookMessage,
    configs_from_environ,
    get_channel,
)
from workers.channels.webhook import webhook_event
from workers.exceptions import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)

__all__ = [
    "QUEUE_NAME",
    "RETRY_INTERVALS",
    "NotificationSettings",
    "NotificationWorker",
    "RelayReport",
    "configure",
    "deliver",
    "enqueue_delivery",
    "enqueue_notifications",
    "job_id_for",
    "notification_queue",
    "relay_outbox",
    "run_worker",
]

log = logging.getLogger(__name__)

QUEUE_NAME = "notifications"
RETRY_INTERVALS = (10, 30, 60, 300, 900)
"""Seconds before each retry of a transient failure: six attempts over about 22 minutes."""
LOCK_SECONDS = 600
"""How long a run may hold a row before another run may take it (longer than any timeout)."""
_TERMINAL_JOB_STATES = {JobStatus.FINISHED, JobStatus.FAILED, JobStatus.STOPPED,
                        JobStatus.CANCELED}


@dataclass(frozen=True)
class NotificationSettings:
    """What a worker process needs to deliver: where the database is and how to send.

    The job opens its own :class:`Database` from ``database_url`` for every run: RQ forks a
    work horse per job, and a connection pool must never be shared across a fork.
    """

    database_url: str
    base_url: str
    channel_configs: Mapping[str, Mapping[str, Any]]
    status_url_for: Callable[[SubmissionRecord], str | None] | None = field(
        default=None, compare=False
    )
    """The applicant's status link for a submission, if the caller can build one."""
    relay_older_than: timedelta = timedelta(seconds=30)
    """The worker's relay leaves rows this young to the request that wrote them."""

    @classmethod
    def from_environ(
        cls, environ: Mapping[str, str], *, database_url: str, instance_path: str, base_url: str
    ) -> NotificationSettings:
        """Channel configurations from ``FORMFLOW_*``; a bad SMTP URL is refused right here."""
        return cls(database_url, base_url.rstrip("/"),
                   configs_from_environ(environ, instance_path))

    def status_url(self, submission: SubmissionRecord) -> str:
        url = self.status_url_for(submission) if self.status_url_for else None
        return url or f"{self.base_url}/"


_settings: NotificationSettings | None = None


def configure(settings: NotificationSettings | None) -> None:
    """Install the settings jobs of this process use (``formflow worker`` does this)."""
    global _settings
    _settings = settings


def _configured() -> NotificationSettings:
    if _settings is None:
        raise RuntimeError("the notification worker is not configured: start it with "
                           "`formflow worker`, which calls workers.jobs.configure()")
    return _settings


# -- enqueueing ----------------------------------------------------------------------------


def notification_queue(connection: Redis) -> Queue:
    return Queue(QUEUE_NAME, connection=connection)


def job_id_for(outbox_id: int | str) -> str:
    return f"outbox-{outbox_id}"


def enqueue_delivery(queue: Queue, outbox_id: int | str) -> Job:
    """Enqueue the job for one outbox row (an RQ call; raises ``RedisError`` when down)."""
    return queue.enqueue(
        deliver, str(outbox_id),
        job_id=job_id_for(outbox_id),
        retry=Retry(max=len(RETRY_INTERVALS), interval=list(RETRY_INTERVALS)),
        description=f"deliver notification {outbox_id}",
    )


def enqueue_notifications(db: Database, connection: Redis, outbox_ids: Iterable[int]) -> int:
    """Enqueue rows a committed transaction just wrote; how many made it into the queue.

    Never raises for Redis or database trouble: a row that could not be enqueued stays
    ``pending`` and the relay picks it up, so a web request can call this after its commit
    without risking the 201 it already owes.
    """
    queue = notification_queue(connection)
    done = 0
    for outbox_id in outbox_ids:
        try:
            enqueue_delivery(queue, outbox_id)
        except RedisError as exc:
            log.warning("notification %s left for the relay: Redis: %s", outbox_id, exc)
            return done
        done += 1
        try:
            mark_enqueued(db, outbox_id)
        except StorageUnavailable as exc:
            # The job is queued; the row stays pending and a relay re-enqueue is harmless.
            log.warning("notification %s enqueued but not marked: %s", outbox_id, exc)
    return done


@dataclass(frozen=True, slots=True)
class RelayReport:
    enqueued: int = 0
    """``pending`` rows handed to the queue."""
    requeued: int = 0
    """``enqueued`` rows whose RQ job had vanished or ended without recording a result."""


def relay_outbox(
    db: Database,
    connection: Redis,
    *,
    older_than: timedelta = timedelta(seconds=30),
    stale_after: timedelta = timedelta(minutes=30),
    limit: int = 500,
) -> RelayReport:
    """Enqueue what a failed enqueue left behind; safe to run any number of times at once.

    ``older_than`` leaves fresh rows to the request that wrote them; ``stale_after``: an
    ``enqueued`` row older than this whose job is gone or over is enqueued again (the job
    itself skips rows that were sent meanwhile).
    """
    queue = notification_queue(connection)
    enqueued = requeued = 0
    for row in notifications_to_enqueue(db, older_than=older_than, limit=limit):
        enqueue_delivery(queue, row.id)
        mark_enqueued(db, row.id)
        enqueued += 1
    with db.read() as store:
        cutoff = store.now - stale_after
        in_flight = store.outbox.with_status(["enqueued"], created_before=cutoff, limit=limit)
    for row in in_flight:
        try:
            job: Job | None = Job.fetch(job_id_for(row.id), connection=connection)
        except NoSuchJobError:
            job = None
        if job is not None and job.get_status(refresh=False) not in _TERMINAL_JOB_STATES:
            continue  # queued, running, scheduled for a retry or deferred: leave it be
        if job is not None:
            job.delete()
        enqueue_delivery(queue, row.id)
        requeued += 1
    if enqueued or requeued:
        log.info("outbox relay: %d enqueued, %d re-enqueued", enqueued, requeued)
    return RelayReport(enqueued, requeued)


# -- the job -------------------------------------------------------------------------------


def deliver(outbox_id: int | str) -> str:
    """The RQ job: deliver one outbox row unless that already happened; returns what it did."""
    settings = _configured()
    db = Database(settings.database_url)
    try:
        return _deliver(db, settings, int(outbox_id))
    finally:
        db.dispose()


def _deliver(db: Database, settings: NotificationSettings, outbox_id: int) -> str:
    try:
        found = delivery(db, outbox_id)
    except NotFound as exc:
        log.warning("notification %s skipped: %s", outbox_id, exc)
        return f"skipped: {exc}"
    if found.outbox.status in ("sent", "failed"):
        return f"skipped: already {found.outbox.status}"
    job = get_current_job()
    lock = None
    if job is not None:
        lock = job.connection.lock(f"formflow:outbox:{outbox_id}:delivering",
                                   timeout=LOCK_SECONDS, blocking=False)
        if not lock.acquire():
            return "skipped: another run is delivering it right now"
    try:
        found = delivery(db, outbox_id)  # re-read under the lock: a run may just have finished
        if found.outbox.status in ("sent", "failed"):
            return f"skipped: already {found.outbox.status}"
        return _send(db, settings, found, retries_left=job.retries_left if job else None)
    finally:
        if lock is not None and lock.owned():
            lock.release()


def _send(
    db: Database, settings: NotificationSettings, found: Delivery, *, retries_left: int | None
) -> str:
    outbox_id = found.outbox.id
    try:
        channel = get_channel(found.outbox.channel)
        message = _message(settings, found)
        receipt = channel.send(message, settings.channel_configs.get(channel.type, {}))
    except (PermanentDeliveryError, TemplateFailed) as exc:
        log.error("notification %s failed for good: %s", outbox_id, exc)
        mark_failed(db, outbox_id, str(exc), final=True)
        return f"failed: {exc}"
    except TransientDeliveryError as exc:
        final = not retries_left
        log.warning("notification %s attempt failed%s: %s", outbox_id,
                    " (no retries left)" if final else "", exc)
        mark_failed(db, outbox_id, str(exc), final=final)
        raise
    if not mark_sent(db, outbox_id):
        log.warning("notification %s was delivered but its row had moved on", outbox_id)
    log.info("notification %s delivered: %s", outbox_id, receipt.detail)
    return receipt.detail


def _message(settings: NotificationSettings, found: Delivery) -> MailMessage | WebhookMessage:
    outbox, event, submission, form = found.outbox, found.event, found.submission, found.form
    language = outbox.language
    state = event.to_state or submission.state
    summary = {
        "id": submission.id,
        "state": state,
        "reference": submission.reference,
        "created_at": submission.created_at.isoformat(),
        "form_title": localize(form.title, language, form.default_language),
        "status_url": settings.status_url(submission),
    }
    transition = {"id": event.transition, "actor": event.actor, "comment": event.comment}
    if outbox.channel == "webhook":
        if not outbox.url or not outbox.secret_env:
            raise PermanentDeliveryError("webhook notification without url or secret_env")
        payload = webhook_event(
            delivery_id=outbox.delivery_key,
            event=f"submission.{event.kind}",
            submission={
                **summary,
                "form": submission.form_id,
                "form_version": submission.form_version,
                "workflow": submission.workflow_id,
                "workflow_version": submission.workflow_version,
                "language": submission.language,
                "answers": dict(submission.answers),
            },
            transition={**transition, "from": event.from_state, "to": event.to_state},
            occurred_at=event.at,
        )
        return WebhookMessage(outbox.delivery_key, outbox.url, outbox.secret_env, payload)
    if not outbox.recipient or not outbox.template:
        raise PermanentDeliveryError("mail notification without recipient or template")
    rendered = render_template(
        found.workflow, outbox.template, language=language,
        default_language=form.default_language, submission=summary,
        answers=dict(submission.answers), transition=transition,
    )
    return MailMessage(outbox.delivery_key, outbox.recipient, rendered.subject, rendered.text,
                       rendered.html, language)


# -- the worker ----------------------------------------------------------------------------


class NotificationWorker(Worker):
    """An RQ worker that also relays the outbox in each of its maintenance rounds.

    RQ runs maintenance when the worker starts and then whenever it has been idle for
    ``maintenance_interval`` seconds, always in the worker's main process between jobs — so
    the relay never overlaps a fork and needs no thread of its own.
    """

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]
        settings = _configured()
        db = Database(settings.database_url)
        try:
            relay_outbox(db, self.connection, older_than=settings.relay_older_than)
        except (FormflowError, RedisError, DeliveryError) as exc:
            log.warning("outbox relay skipped this round: %s", exc)
        finally:
            db.dispose()


def run_worker(
    settings: NotificationSettings,
    connection: Redis,
    *,
    burst: bool = False,
    relay_every: int = 60,
) -> bool:
    """Work the notification queue (``formflow worker``); True if any job was processed.

    The outbox is relayed when the worker starts and about every ``relay_every`` seconds of
    idleness. RQ's scheduler runs too: retries wait in it for their time. With ``burst`` the
    worker returns once the queue is empty (retries still waiting stay scheduled); otherwise
    it runs until SIGINT/SIGTERM, finishing the job at hand first.
    """
    configure(settings)
    interval = max(1, int(relay_every))
    worker = NotificationWorker(
        [notification_queue(connection)], connection=connection,
        maintenance_interval=interval,
        worker_ttl=interval + 15,  # RQ's idle wait is worker_ttl - 15: maintenance that often
    )
    return bool(worker.work(burst=burst, with_scheduler=True))
