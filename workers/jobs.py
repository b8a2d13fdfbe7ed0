"""Deliver outbox rows through RQ: the job and the worker that runs it.

The database outbox is the truth; Redis only carries *which row to look at next*. A job holds
nothing but the row's delivery id (a random UUID, see ``workers.queueing``) and reloads
everything, so a job enqueued twice, a job retried after a crash, or a relay racing a web
request all converge on the row's own status:

- a job whose row does not exist (another installation's, or one from before a database
  restore) marks nothing and is logged;
- ``sent`` or ``failed`` rows are skipped, so a second run never sends a second time;
- a per-row Redis lock stops two runs from sending at the same moment; a run that finds the
  row locked raises, so RQ looks again later instead of the job ending with nothing sent;
- a crash *between* a successful send and recording it resends once, with the same
  ``Message-ID`` / ``X-Formflow-Delivery`` so receivers can drop the duplicate (at least once,
  never silently zero times). Right after a send a Redis receipt is written first (kept
  7 days, keyed by the delivery id), so a database that fails at that moment does not cause a
  resend either. The receipt only completes what the row says was handed to a run
  (``enqueued``); it never overrides the row: a ``pending`` row is delivered, receipt or not.

Permanent failures (template error, missing webhook secret, 4xx, SMTP 5xx) mark the row failed
at once. Transient ones — and anything unexpected — count an attempt and raise, so RQ retries
after 10 s, 30 s, 1 min, 5 min and 15 min (``FORMFLOW_NOTIFY_RETRY_INTERVALS``; the worker must
run with its scheduler for those waits); the last one marks the row failed, with the error, for
people to see and retry (``formflow outbox retry``). Rows whose enqueue failed (Redis down) stay
``pending`` and the relay — run by ``formflow outbox relay`` and periodically by
:func:`run_worker` — enqueues them later; it also re-enqueues ``enqueued`` rows whose RQ job has
vanished (a Redis that lost its data) or ended without recording a result.

Workers deliver in their own process (:class:`NotificationWorker`, the default) or fork a work
horse per delivery (:class:`ForkingNotificationWorker`, ``--fork``). When a work horse dies
(SIGKILL, the OOM killer), its worker notices at once: RQ retries the job and the worker frees
the row's lock. When a worker process dies, RQ's own registry maintenance (in any other or the
restarted worker) finds its job abandoned once the heartbeat expires and retries it; the dead
run's lock is taken over. A notification whose runs keep dying is marked failed after
``MAX_INTERRUPTED`` of them.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
from datetime import timedelta
from types import FrameType
from typing import Any

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, SimpleWorker, Worker, get_current_job
from rq.exceptions import StopRequested
from rq.job import Job
from rq.worker import BaseWorker

from engine.exceptions import FormflowError, NotFound, TemplateFailed
from engine.resume_mail import resume_link_message
from engine.services import (
    Database,
    Delivery,
    DraftLinkDelivery,
    delivery,
    list_published,
    mark_failed,
    mark_sent,
    notification_by_delivery_id,
    notifications_with_status,
    resume_token,
    status_token,
)
from engine.services.loading import form_of, workflow_of
from engine.templating import check_templates, render_template
from engine.text import localize
from workers.channels import MailMessage, WebhookMessage, get_channel
from workers.channels.mail import tls_context
from workers.channels.webhook import webhook_event
from workers.exceptions import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from workers.purging import schedule_purge
from workers.queueing import (
    QUEUE_NAME,
    RedisNames,
    RelayReport,
    enqueue_delivery,
    enqueue_notifications,
    notification_queue,
    relay_outbox,
)
from workers.restarting import RunOutcome, keep_running
from workers.settings import (
    KILL_POINTS,
    KILL_VARIABLE,
    RETRY_INTERVALS,
    RETRY_INTERVALS_VARIABLE,
    NotificationSettings,
    parse_retry_intervals,
)
from workers.stopping import PromptUnsubscribe

__all__ = [  # the job and the worker, plus the queueing and settings names, for one import
    "KILL_POINTS",
    "KILL_VARIABLE",
    "QUEUE_NAME",
    "RETRY_INTERVALS",
    "MAX_INTERRUPTED",
    "RETRY_INTERVALS_VARIABLE",
    "DeliveryBusy",
    "ForkingNotificationWorker",
    "NotificationSettings",
    "NotificationWorker",
    "RedisNames",
    "RelayReport",
    "configure",
    "configured_settings",
    "deliver",
    "enqueue_delivery",
    "enqueue_notifications",
    "notification_queue",
    "parse_retry_intervals",
    "process_database",
    "relay_outbox",
    "run_worker",
]

log = logging.getLogger(__name__)

RECEIPT_SECONDS = 7 * 24 * 3600
"""How long the Redis receipt of a send outlives it: far longer than any retry schedule."""
MAX_INTERRUPTED = 3
"""Runs of one notification that may die without an outcome before it is marked failed."""


class DeliveryBusy(TransientDeliveryError):
    """Another run holds the row right now; RQ retries this job later (nothing is recorded)."""


_settings: NotificationSettings | None = None
_db: tuple[int, Database] | None = None
"""The process's Database and the pid it was last made ready in. The worker opens it before
its first job; each forked work horse inherits it and calls ``after_fork``, keeping what the
worker cached between jobs — loaded definitions (:func:`_warm_definitions`) and SQLAlchemy's
compiled statements — so no job pays for parsing a workflow or compiling a query again."""


def configure(settings: NotificationSettings | None) -> None:
    """Install the settings jobs of this process use (``formflow worker`` does this)."""
    global _settings, _db
    if _db is not None and _db[0] == os.getpid():
        _db[1].dispose()
    _settings, _db = settings, None


def configured_settings() -> NotificationSettings:
    if _settings is None:
        raise RuntimeError("the notification worker is not configured: start it with "
                           "`formflow worker`, which calls workers.jobs.configure()")
    return _settings


def process_database(settings: NotificationSettings) -> Database:
    """This process's Database for the configured settings (made fork-safe after a fork)."""
    global _db
    pid = os.getpid()
    if _db is None:
        db = Database(settings.database_url)
        db.submission_token_key = settings.token_key
    else:
        db = _db[1]
        if _db[0] != pid:
            db.after_fork()
    _db = (pid, db)
    return db


# -- enqueueing ----------------------------------------------------------------------------


# -- the job -------------------------------------------------------------------------------


def deliver(delivery_id: str) -> str:
    """The RQ job: deliver one outbox row unless that already happened; returns what it did.

    A delivery id no row has (a job of another installation on the same queue, or one left in
    Redis from before a database restore) marks nothing: it is logged and the job ends.
    """
    settings = configured_settings()
    db = process_database(settings)
    row = notification_by_delivery_id(db, str(delivery_id))
    if row is None:
        log.warning("notification %s skipped: this database has no such row (a job from "
                    "before a restore, or of another installation?); nothing marked",
                    delivery_id)
        return "skipped: no such notification"
    return _deliver(db, settings, row.id, row.delivery_id)


def _lock_token(worker_name: str) -> str:
    """Who holds a row: the RQ worker's name and the pid of the process delivering."""
    return f"{worker_name}:{os.getpid()}"


def _release_if_orphaned(connection: Redis, key: str, outbox_id: int, this_worker: str) -> None:
    """Free a row whose holder cannot be running any more, instead of waiting for its lock to
    expire: an earlier run of this very worker (a worker runs one job at a time, so that one
    died — a killed work horse), or a run of a worker RQ no longer knows (its heartbeat
    expired: it was killed)."""
    raw = connection.get(key)
    holder = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    worker_name = (holder or "").rpartition(":")[0]
    if not worker_name:
        return  # free by now, or held outside RQ: let it expire
    gone = worker_name == this_worker or not connection.exists(
        Worker.redis_worker_namespace_prefix + worker_name)
    if gone and connection.get(key) == raw:
        log.warning("notification %s: taking over from %s, which no longer runs",
                    outbox_id, holder)
        connection.delete(key)


def _deliver(
    db: Database, settings: NotificationSettings, outbox_id: int, delivery_id: str
) -> str:
    job = get_current_job()
    connection: Redis | None = job.connection if job is not None else None
    names = RedisNames(settings.redis_prefix)
    lock = None
    if connection is not None:
        lock_key = names.lock_key(delivery_id)
        lock = connection.lock(lock_key, timeout=settings.job_timeout + 30, blocking=False)
        this_worker = str(job.worker_name or "") if job is not None else ""
        if not lock.acquire(token=_lock_token(this_worker)):
            _release_if_orphaned(connection, lock_key, outbox_id, this_worker)
            if not lock.acquire(token=_lock_token(this_worker)):
                raise DeliveryBusy(f"notification {outbox_id} is being delivered by another "
                                   "run right now; looking again later")
    try:
        try:
            found = delivery(db, outbox_id)  # read under the lock: no other run is sending
        except NotFound as exc:
            log.warning("notification %s skipped: %s", outbox_id, exc)
            return f"skipped: {exc}"
        if found.outbox.status in ("sent", "failed", "cancelled"):
            return f"skipped: already {found.outbox.status}"
        if connection is None:
            return _send(db, settings, found, None, retries_left=None)
        if found.outbox.status == "enqueued" and connection.exists(
                names.receipt_key(delivery_id)):
            # Sent by a run that died (or lost the database) before recording it. A pending
            # row is delivered whatever Redis says: the database's record is the truth.
            mark_sent(db, outbox_id)
            return "recorded an earlier delivery"
        return _send_counting_interruptions(db, settings, found, connection,
                                            retries_left=job.retries_left if job else None)
    finally:
        if lock is not None and lock.owned():
            lock.release()


def _send_counting_interruptions(
    db: Database,
    settings: NotificationSettings,
    found: Delivery | DraftLinkDelivery,
    connection: Redis,
    *,
    retries_left: int | None,
) -> str:
    """:func:`_send`, but give up on a notification whose runs keep dying.

    A run that ends in any way Python sees — sent, failed, raised — takes its mark back. A
    process that dies mid-run (out of memory, killed) leaves it behind: after
    ``MAX_INTERRUPTED`` such runs the row is marked failed, so a notification that kills
    every worker that touches it cannot keep them dying forever (retry, relay, retry…).
    """
    outbox_id = found.outbox.id
    key = RedisNames(settings.redis_prefix).interrupted_key(found.outbox.delivery_id)
    interrupted = int(connection.incr(key)) - 1
    connection.expire(key, RECEIPT_SECONDS)
    if interrupted >= MAX_INTERRUPTED:
        error = (f"gave up: {interrupted} deliveries of this notification were interrupted "
                 "because the process running them died (out of memory? killed?)")
        log.error("notification %s: %s", outbox_id, error)
        mark_failed(db, outbox_id, error, final=True)
        connection.delete(key)
        return f"failed: {error}"
    try:
        return _send(db, settings, found, connection, retries_left=retries_left)
    finally:
        connection.decr(key)


def _send(
    db: Database,
    settings: NotificationSettings,
    found: Delivery | DraftLinkDelivery,
    connection: Redis | None,
    *,
    retries_left: int | None,
) -> str:
    outbox_id = found.outbox.id
    delivery_id = found.outbox.delivery_id
    _maybe_kill(settings, "before_send", delivery_id, connection)
    try:
        channel = get_channel(found.outbox.channel)
        message = _message(settings, db, found)
        receipt = channel.send(message, settings.channel_configs.get(channel.type, {}))
    except (PermanentDeliveryError, TemplateFailed) as exc:
        log.error("notification %s failed for good: %s", outbox_id, exc)
        mark_failed(db, outbox_id, str(exc), final=True)
        return f"failed: {exc}"
    except TransientDeliveryError as exc:
        _attempt_failed(db, outbox_id, str(exc), retries_left)
        raise
    except Exception as exc:
        # A bug or a job timeout: recorded like a transient failure, so the schedule ends
        # in a visible failed row instead of a job the relay would resurrect forever.
        _attempt_failed(db, outbox_id, f"internal error: {_describe(exc)}", retries_left)
        raise
    _maybe_kill(settings, "after_send", delivery_id, connection)
    _remember_sent(connection, RedisNames(settings.redis_prefix).receipt_key(delivery_id),
                   outbox_id)
    _maybe_kill(settings, "after_receipt", delivery_id, connection)
    if not mark_sent(db, outbox_id):
        log.warning("notification %s was delivered but its row had moved on", outbox_id)
    log.info("notification %s delivered: %s", outbox_id, receipt.detail)
    return receipt.detail


def _attempt_failed(db: Database, outbox_id: int, error: str, retries_left: int | None) -> None:
    final = not retries_left
    log.warning("notification %s attempt failed%s: %s", outbox_id,
                " (no retries left)" if final else "", error)
    try:
        mark_failed(db, outbox_id, error, final=final)
    except FormflowError as exc:
        log.warning("notification %s: could not record the failure: %s", outbox_id, exc)


def _describe(exc: BaseException) -> str:
    text = str(exc) or "(no message)"
    return f"{type(exc).__name__}: {text}"[:500]


def _remember_sent(connection: Redis | None, key: str, outbox_id: int) -> None:
    if connection is None:
        return
    try:
        connection.set(key, "1", ex=RECEIPT_SECONDS)
    except RedisError as exc:  # the database record below is what counts
        log.warning("notification %s: could not write its Redis receipt: %s", outbox_id, exc)


def _maybe_kill(
    settings: NotificationSettings, point: str, delivery_id: str, connection: Redis | None
) -> None:
    """Failure tests: SIGKILL this work horse (or its whole worker) at ``point``, once per row.

    Inert unless ``FORMFLOW_TEST_KILL_AT`` named this point when the worker started (and never
    in production: :meth:`NotificationSettings.from_environ` refuses it there). "Once" is
    remembered in Redis, so the retry that follows runs through.
    """
    if settings.kill_at != point or connection is None:
        return
    key = RedisNames(settings.redis_prefix).test_kill_key(point, delivery_id)
    if not connection.set(key, "1", nx=True, ex=3600):
        return
    log.warning("%s=%s: killing the %s now", KILL_VARIABLE, point, settings.kill_scope)
    if settings.kill_scope == "worker" and _in_work_horse:
        os.kill(os.getppid(), signal.SIGKILL)  # the worker that forked this horse
    os.kill(os.getpid(), signal.SIGKILL)


def _message(
    settings: NotificationSettings, db: Database, found: Delivery | DraftLinkDelivery
) -> MailMessage | WebhookMessage:
    if isinstance(found, DraftLinkDelivery):
        return _resume_link_mail(settings, db, found)
    return _submission_message(settings, found, status_token(db, found.submission.id))


def _resume_link_mail(
    settings: NotificationSettings, db: Database, found: DraftLinkDelivery
) -> MailMessage:
    outbox, draft, form = found.outbox, found.draft, found.form
    token = resume_token(db, draft.id)
    if token is None:
        raise PermanentDeliveryError(
            "the resume link cannot be rebuilt: the draft was saved without the app's secret "
            "key, or the key has changed since"
        )
    if not outbox.recipient:
        raise PermanentDeliveryError("resume-link mail without recipient")
    rendered = resume_link_message(
        form_title=localize(form.title, outbox.language, form.default_language),
        resume_url=settings.resume_url(token),
        expires_at=draft.expires_at,
        language=outbox.language,
        zone=settings.zone,
    )
    return MailMessage(outbox.delivery_id, outbox.recipient, rendered.subject, rendered.text,
                       rendered.html, rendered.language)


def _submission_message(
    settings: NotificationSettings, found: Delivery, token: str | None
) -> MailMessage | WebhookMessage:
    outbox, event, submission, form = found.outbox, found.event, found.submission, found.form
    language = outbox.language
    state = event.to_state or submission.state
    summary = {
        "id": submission.id,
        "state": state,
        "reference": submission.reference,
        "created_at": submission.created_at.isoformat(),
        "form_title": localize(form.title, language, form.default_language),
        "status_url": settings.status_url(token),
    }
    transition = {"id": event.transition, "actor": event.actor, "comment": event.comment}
    if outbox.channel == "webhook":
        if not outbox.url or not outbox.secret_env:
            raise PermanentDeliveryError("webhook notification without url or secret_env")
        payload = webhook_event(
            delivery_id=outbox.delivery_id,
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
        return WebhookMessage(outbox.delivery_id, outbox.url, outbox.secret_env, payload)
    if not outbox.recipient or not outbox.template:
        raise PermanentDeliveryError("mail notification without recipient or template")
    rendered = render_template(
        found.workflow, outbox.template, language=language,
        default_language=form.default_language,
        submission={**summary, "inbox_url": settings.inbox_url(submission.id)},
        answers=dict(submission.answers), transition=transition,
    )
    return MailMessage(outbox.delivery_id, outbox.recipient, rendered.subject, rendered.text,
                       rendered.html, language)


# -- the worker ----------------------------------------------------------------------------


class _Maintenance(BaseWorker):
    """What formflow adds to an RQ worker's maintenance rounds: the relay and warm caches.

    RQ runs maintenance when the worker starts and then every ``maintenance_interval`` seconds
    (between jobs, or while idle), always in the worker's main process — so the relay never
    overlaps a job and needs no thread of its own.
    """

    stop_requested = False
    """SIGTERM/SIGINT arrived: :func:`run_worker` ends instead of starting RQ's worker again."""

    def request_stop(self, signum: int, frame: FrameType | None) -> None:
        self.stop_requested = True
        super().request_stop(signum, frame)  # type: ignore[no-untyped-call]

    def run_maintenance_tasks(self) -> None:
        """RQ's round, then the relay and warm caches — none of it once a stop is requested.

        SIGTERM during a job: the worker ends after the round, and RQ's round would start the
        scheduler again (the signal stopped it), only for the teardown to SIGTERM the new
        process at once, maybe before it has replaced the worker's handler it inherited (which
        ignores a repeat within a second). SIGTERM while idle: RQ's handler raises
        ``StopRequested`` wherever the worker is — inside this round, the catch-all below
        would swallow it and the worker would run on. Either way the round ends by raising
        it, which ends RQ's work loop.
        """
        if self.stop_requested:
            raise StopRequested
        super().run_maintenance_tasks()  # type: ignore[no-untyped-call]
        settings = configured_settings()
        db = process_database(settings)
        try:
            relay_outbox(db, self.connection, names=RedisNames(settings.redis_prefix),
                         older_than=settings.relay_older_than,
                         stale_after=settings.stale_after,
                         retry_intervals=settings.retry_intervals,
                         job_timeout=settings.job_timeout)
            _warm(db, settings)
            schedule_purge(self.queues[0], settings.redis_prefix,
                           first_in=min(timedelta(minutes=1), settings.purge_every))
        except (FormflowError, RedisError, DeliveryError) as exc:
            log.warning("outbox relay skipped this round: %s", exc)
        except Exception:  # maintenance must never take the worker down with it
            log.exception("outbox relay failed this round")
        if self.stop_requested:
            raise StopRequested


class NotificationWorker(_Maintenance, PromptUnsubscribe, SimpleWorker):
    """The default worker: deliveries run in the worker process itself, one after another.

    No fork per job, so the caches, the database connection and everything imported stay warm
    from one delivery to the next — several times the throughput of forking (see
    docs/performance.md). The price: a delivery that kills the process takes the worker with
    it, and its job is retried once RQ finds it abandoned (its heartbeat expires: the job
    timeout + 60 s, 3 minutes by default); the lock it held is taken over then. Job timeouts
    still apply (SIGALRM).
    """


class ForkingNotificationWorker(_Maintenance, PromptUnsubscribe, Worker):
    """``formflow worker --fork``: RQ's forking model — each delivery in a work horse process.

    A delivery that crashes or is killed takes only its horse; the worker notices at once,
    frees the row and lets RQ retry. Each horse inherits the worker's warm caches, but the
    fork itself costs more than most deliveries.
    """

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        global _in_work_horse
        _in_work_horse = True
        super().main_work_horse(job, queue)

    def handle_work_horse_killed(
        self, job: Job, retpid: int | None, ret_val: int | None, rusage: Any
    ) -> None:
        """A horse that died mid-delivery cannot release its row: do it for it, so RQ's retry
        (which follows at once) is not turned away as "busy" until the lock expires."""
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)  # type: ignore[no-untyped-call]
        if not retpid or not job.args:
            return
        key = RedisNames(configured_settings().redis_prefix).lock_key(str(job.args[0]))
        try:
            holder = self.connection.get(key)
            if isinstance(holder, bytes):
                holder = holder.decode("utf-8", "replace")
            if holder == f"{self.name}:{retpid}":
                self.connection.delete(key)
        except RedisError as exc:
            log.warning("could not release the lock of %s: %s", job.id, exc)


_in_work_horse = False
"""True in a forked work horse (set by :class:`ForkingNotificationWorker`)."""


def _warm(db: Database, settings: NotificationSettings) -> None:
    """Prepare in the worker process what every delivery needs, once, instead of per job:
    loaded definitions, compiled templates, compiled SQL statements and the TLS context.
    Forked work horses inherit all of it; in-process deliveries simply reuse it."""
    for record in list_published(db, "form"):
        form_of(db, record)
    for record in list_published(db, "workflow"):
        check_templates(workflow_of(db, record))  # compiles every text into the render cache
    recent = notifications_with_status(db, ["sent", "failed", "enqueued", "pending"], limit=1)
    if recent:  # the reads of a delivery, on a real row (SQLAlchemy caches each compiled)
        with contextlib.suppress(NotFound):  # its draft or submission may be gone
            delivery(db, recent[0].id)
        if recent[0].submission_id is not None:
            status_token(db, recent[0].submission_id)
    # The writes of a delivery, on a row that cannot exist: compiled, nothing changed.
    mark_sent(db, 0)
    mark_failed(db, 0, "", final=True)
    mark_failed(db, 0, "", final=False)
    smtp_url = settings.channel_configs.get("mail", {}).get("smtp_url")
    if smtp_url and not str(smtp_url).startswith("smtp://"):
        tls_context()


def run_worker(
    settings: NotificationSettings,
    connection: Redis,
    *,
    burst: bool = False,
    relay_every: int = 60,
    fork: bool = False,
    rq_log_level: str = "INFO",
) -> bool:
    """Work the notification queue (``formflow worker``); True if any job was processed.

    The outbox is relayed when the worker starts and about every ``relay_every`` seconds.
    RQ's scheduler runs too: retries wait in it for their time. With ``burst`` the worker
    returns once the queue is empty (retries still waiting stay scheduled); otherwise it runs
    until SIGINT/SIGTERM, finishing the job at hand first — and when RQ's worker ends without
    being asked to (it lost Redis in the middle of a job), a fresh one is started with backoff
    (:func:`workers.restarting.keep_running`). ``fork``: a work horse per job
    (:class:`ForkingNotificationWorker`) instead of :class:`NotificationWorker`.
    ``rq_log_level``: RQ's own lines (five per job at INFO); formflow logs each delivery's
    outcome on its own logger either way.
    """
    configure(settings)
    interval = max(1, int(relay_every))
    worker_class = ForkingNotificationWorker if fork else NotificationWorker

    def run_once() -> RunOutcome:
        worker = worker_class(
            [notification_queue(connection, RedisNames(settings.redis_prefix))],
            connection=connection,
            maintenance_interval=interval,
            worker_ttl=interval + 15,  # RQ's idle wait is worker_ttl - 15: maintenance so often
        )
        try:
            worked = worker.work(burst=burst, with_scheduler=True, logging_level=rq_log_level)
        except RedisError as exc:
            if burst:
                raise
            return RunOutcome(False, worker.stop_requested, exc)
        return RunOutcome(bool(worked), burst or worker.stop_requested)

    return keep_running(run_once)
