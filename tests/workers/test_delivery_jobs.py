"""Outbox rows delivered by real RQ workers: real SQLite, embedded Redis, SMTP and HTTP peers."""

from __future__ import annotations

import contextlib
import copy
import email
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from rq.registry import ScheduledJobRegistry

from engine.records import OutboxRecord
from engine.services import (
    Database,
    create_user,
    import_definition,
    notifications_for,
    publish_form,
    publish_workflow,
    submit,
)
from engine.signing import verify
from workers.channels.mail import message_id_for
from workers.exceptions import TransientDeliveryError
from workers.jobs import (
    NotificationSettings,
    NotificationWorker,
    RedisNames,
    configure,
    deliver,
    enqueue_delivery,
    enqueue_notifications,
    notification_queue,
    relay_outbox,
    run_worker,
)

SECRET_ENV = "FORMFLOW_WEBHOOK_TEST_JOBS_SECRET"
SECRET = "jobs-secret"

FORM: dict[str, Any] = {
    "id": "membership",
    "title": {"de": "Mitgliedschaft", "en": "Membership"},
    "languages": ["de", "en"],
    "workflow": "review",
    "applicant": {"email": "email", "name": "name"},
    "steps": [{"id": "person", "title": {"de": "Person", "en": "Person"}, "fields": [
        {"id": "name", "type": "text", "label": {"de": "Name", "en": "Name"}, "required": True},
        {"id": "email", "type": "email", "label": {"de": "E-Mail", "en": "Email"}},
    ]}],
    "rules": [],
}


def workflow(hook_url: str) -> dict[str, Any]:
    return {
        "id": "review",
        "title": {"de": "Prüfung", "en": "Review"},
        "initial": "submitted",
        "states": [
            {"id": "submitted", "label": {"de": "Eingegangen", "en": "Submitted"}},
            {"id": "accepted", "label": {"de": "Angenommen", "en": "Accepted"}, "final": True},
        ],
        "transitions": [
            {"id": "accept", "from": "submitted", "to": "accepted", "roles": ["coordinator"]},
        ],
        "notifications": [
            {"on": "submitted", "to": "applicant", "template": "received"},
            {"on": "submitted", "to": "role:coordinator", "template": "new_submission"},
            {"on": "*", "webhook": hook_url, "secret_env": SECRET_ENV},
        ],
        "templates": {
            "received": {
                "subject": {"de": "Eingang {{ submission.reference }}",
                            "en": "Received {{ submission.reference }}"},
                "body": {"de": "Hallo {{ answers.name }},\n\nIhr Antrag "
                               "„{{ submission.form_title }}“ ist eingegangen.",
                         "en": "Hello {{ answers.name }}"},
            },
            "new_submission": {
                "subject": {"de": "Neu: {{ submission.reference }}"},
                "body": {"de": "{{ answers.telefon }}"},  # no such answer: fails at render time
            },
        },
    }


@dataclass
class Hook:
    port: int = 0
    statuses: list[int] = field(default_factory=list)
    received: list[tuple[str | None, bool, dict[str, Any]]] = field(default_factory=list)


class Sink:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"

    def recipients(self) -> list[str]:
        return sorted(r for e in self.envelopes for r in e.rcpt_tos)


@pytest.fixture
def hook() -> Iterator[Hook]:
    state = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            ok = verify(body, SECRET.encode(), self.headers.get("X-Formflow-Signature"))
            state.received.append((self.headers.get("X-Formflow-Delivery"), ok, json.loads(body)))
            self.send_response(state.statuses.pop(0) if state.statuses else 204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = int(server.server_address[1])
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler = Sink()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
def db(tmp_path: Path, hook: Hook) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'formflow.sqlite3'}")
    database.upgrade()
    import_definition(database, workflow(f"http://127.0.0.1:{hook.port}/hook"), "workflow")
    publish_workflow(database, "review")
    import_definition(database, copy.deepcopy(FORM), "form")
    publish_form(database, "membership")
    create_user(database, "coord@example.org", ["coordinator"])
    yield database
    database.dispose()


@pytest.fixture
def settings(db: Database, sink: tuple[Sink, int], monkeypatch: pytest.MonkeyPatch,
             tmp_path: Path) -> Iterator[NotificationSettings]:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    env = {"FORMFLOW_SMTP_URL": f"smtp://127.0.0.1:{sink[1]}",
           "FORMFLOW_MAIL_FROM": "Verein <formflow@verein.example>",
           "FORMFLOW_WEBHOOK_ALLOW": "127.0.0.1"}  # the test's receiver is on loopback
    configured = NotificationSettings.from_environ(
        env, database_url=str(db.url), instance_path=str(tmp_path / "instance"),
        base_url="http://127.0.0.1:5000/",
    )
    configure(configured)
    try:
        yield configured
    finally:
        configure(None)


def rows(db: Database, submission_id: str) -> dict[str, OutboxRecord]:
    """The submission's outbox rows by who they are for: applicant, coordinator, webhook."""
    by_role = {}
    for row in notifications_for(db, submission_id):
        by_role[row.role or row.channel] = row
    return by_role


def submit_one(db: Database) -> str:
    answers = {"name": "Jörg Müller", "email": "joerg@example.org"}
    return submit(db, "membership", answers, "de").id


def test_worker_delivers_each_row_once_and_records_the_outcome(
    db: Database, redis: Redis, settings: NotificationSettings, sink: tuple[Sink, int], hook: Hook
) -> None:
    submission_id = submit_one(db)
    before = rows(db, submission_id)
    assert set(before) == {"applicant", "coordinator", "webhook"}
    assert {r.status for r in before.values()} == {"pending"}

    ids = [r.delivery_id for r in before.values()]
    assert enqueue_notifications(db, redis, ids) == 3
    assert {r.status for r in rows(db, submission_id).values()} == {"enqueued"}
    run_worker(settings, redis, burst=True)

    after = rows(db, submission_id)
    assert (after["applicant"].status, after["applicant"].attempts) == ("sent", 1)
    assert (after["webhook"].status, after["webhook"].attempts) == ("sent", 1)
    # A template naming an answer that does not exist fails that row only, for good.
    assert after["coordinator"].status == "failed"
    assert "new_submission" in (after["coordinator"].last_error or "")
    assert "'telefon'" in (after["coordinator"].last_error or "")

    handler, _port = sink
    assert handler.recipients() == ["joerg@example.org"]
    content = handler.envelopes[0].content
    assert isinstance(content, bytes)
    mail = email.message_from_bytes(content, policy=default_policy)
    assert mail["Message-ID"] == message_id_for(before["applicant"].delivery_id)
    assert mail["X-Formflow-Delivery"] == before["applicant"].delivery_id
    assert mail["Message-ID"].startswith("<") and "\n" not in mail["Message-ID"]
    assert mail["Subject"].startswith("Eingang ")
    assert str(mail["From"]) == "Verein <formflow@verein.example>"
    [(delivery_id, signature_ok, event)] = hook.received
    assert signature_ok and delivery_id == before["webhook"].delivery_id
    assert event["event"] == "submission.created"
    assert event["delivery_id"] == delivery_id
    assert event["submission"]["id"] == submission_id
    assert event["submission"]["state"] == "submitted"
    assert event["submission"]["answers"] == {"name": "Jörg Müller", "email": "joerg@example.org"}
    assert event["transition"]["to"] == "submitted"

    # Running the jobs again (a duplicate enqueue, a relay race) sends nothing more.
    for delivery_id in ids:
        enqueue_delivery(notification_queue(redis), delivery_id)
    run_worker(settings, redis, burst=True)
    assert deliver(before["applicant"].delivery_id) == "skipped: already sent"
    assert len(handler.envelopes) == 1 and len(hook.received) == 1
    assert rows(db, submission_id)["applicant"].attempts == 1


def test_transient_failure_is_retried_with_the_same_delivery_id(
    db: Database, redis: Redis, settings: NotificationSettings, hook: Hook
) -> None:
    submission_id = submit_one(db)
    webhook_row = rows(db, submission_id)["webhook"]
    hook.statuses = [503]
    queue = notification_queue(redis)
    job = enqueue_delivery(queue, webhook_row.delivery_id)
    assert job.id == RedisNames().job_id(webhook_row.delivery_id)
    run_worker(settings, redis, burst=True)

    row = rows(db, submission_id)["webhook"]
    assert (row.status, row.attempts) == ("enqueued", 1)
    assert "HTTP 503" in (row.last_error or "")
    job.refresh()
    assert job.get_status() == "scheduled"  # waits 10 s for its first retry
    registry = ScheduledJobRegistry(queue=queue)
    assert job.id in registry.get_job_ids()

    # Time passes: the scheduler would move it back to the queue; do that now.
    registry.remove(job)
    queue.enqueue_job(job)
    run_worker(settings, redis, burst=True)
    row = rows(db, submission_id)["webhook"]
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert [d for d, _ok, _e in hook.received] == [row.delivery_id, row.delivery_id]


def test_last_transient_failure_marks_the_row_failed(
    db: Database, settings: NotificationSettings, hook: Hook
) -> None:
    submission_id = submit_one(db)
    webhook_row = rows(db, submission_id)["webhook"]
    hook.statuses = [502]
    with pytest.raises(TransientDeliveryError, match="HTTP 502"):
        deliver(webhook_row.delivery_id)  # outside RQ: no retry will follow
    row = rows(db, submission_id)["webhook"]
    assert (row.status, row.attempts) == ("failed", 1)


def test_missing_webhook_secret_fails_at_once(
    db: Database, redis: Redis, settings: NotificationSettings, hook: Hook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(SECRET_ENV)
    submission_id = submit_one(db)
    webhook_row = rows(db, submission_id)["webhook"]
    job = enqueue_delivery(notification_queue(redis), webhook_row.delivery_id)
    run_worker(settings, redis, burst=True)
    row = rows(db, submission_id)["webhook"]
    assert (row.status, row.attempts) == ("failed", 1)
    assert SECRET_ENV in (row.last_error or "")
    job.refresh()
    assert job.get_status() == "finished"  # nothing left to retry
    assert hook.received == []


def test_relay_enqueues_pending_rows_and_jobs_redis_lost(
    db: Database, redis: Redis, settings: NotificationSettings, sink: tuple[Sink, int],
    hook: Hook,
) -> None:
    submission_id = submit_one(db)  # nobody enqueued: as if Redis was down at submit time
    report = relay_outbox(db, redis, older_than=timedelta(0))
    assert (report.enqueued, report.requeued) == (3, 0)
    assert relay_outbox(db, redis, older_than=timedelta(0)).enqueued == 0

    redis.flushdb()  # Redis loses its data before a worker ran
    assert relay_outbox(db, redis, older_than=timedelta(0), stale_after=timedelta(hours=1)) \
        .requeued == 0, "young rows are left alone"
    report = relay_outbox(db, redis, older_than=timedelta(0), stale_after=timedelta(0))
    assert report.requeued == 3
    run_worker(settings, redis, burst=True)
    statuses = {k: r.status for k, r in rows(db, submission_id).items()}
    assert statuses == {"applicant": "sent", "coordinator": "failed", "webhook": "sent"}
    assert len(sink[0].envelopes) == 1 and len(hook.received) == 1
    # Delivered rows are never re-enqueued.
    assert relay_outbox(db, redis, older_than=timedelta(0), stale_after=timedelta(0)) \
        .requeued == 0


def test_enqueue_with_redis_down_leaves_rows_for_the_relay(db: Database) -> None:
    submission_id = submit_one(db)
    unreachable = Redis(unix_socket_path="/nonexistent/formflow.sock",
                        retry=Retry(NoBackoff(), 0))
    ids = [r.delivery_id for r in rows(db, submission_id).values()]
    assert enqueue_notifications(db, unreachable, ids) == 0
    assert {r.status for r in rows(db, submission_id).values()} == {"pending"}


def test_jobs_refuse_to_run_unconfigured() -> None:
    configure(None)
    with pytest.raises(RuntimeError, match="formflow worker"):
        deliver("1")


WORKER_SCRIPT = """
import sys
from datetime import timedelta
from workers.connection import redis_connection
from workers.jobs import NotificationSettings, run_worker

database_url, instance, smtp_port = sys.argv[1:4]
settings = NotificationSettings.from_environ(
    {"FORMFLOW_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}", "FORMFLOW_WEBHOOK_ALLOW": "127.0.0.1"},
    database_url=database_url,
    instance_path=instance, base_url="http://127.0.0.1:5000",
)
settings = NotificationSettings(settings.database_url, settings.base_url,
                                settings.channel_configs, relay_older_than=timedelta(0))
run_worker(settings, redis_connection(None, instance), relay_every=1)
print("worker stopped", flush=True)
"""


STOP_WITHIN = 20
"""Seconds an idle worker may take to exit after SIGTERM. Its scheduler stops within about a
second and nothing else is waited for; a stop that waits for a 60 s read of RQ's command
listener (``workers.stopping``) overruns it clearly."""


def children_of(pid: int) -> list[int]:
    """Pids of the processes ``pid`` forked from its main thread (Linux /proc)."""
    try:
        return [int(child) for child in
                Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def stop_worker(worker: subprocess.Popen[str]) -> str:
    """SIGTERM ``worker`` and return its output. One still running after ``STOP_WITHIN`` s
    fails the test with the stack of every thread of it and of its children (it runs with
    ``PYTHONFAULTHANDLER``, which dumps them on SIGABRT): where the stop waits."""
    worker.send_signal(signal.SIGTERM)
    try:
        return worker.communicate(timeout=STOP_WITHIN)[0]
    except subprocess.TimeoutExpired:
        for pid in [*children_of(worker.pid), worker.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGABRT)
        output = worker.communicate(timeout=30)[0]
        pytest.fail(f"the worker was still running {STOP_WITHIN} s after SIGTERM; its threads "
                    f"and those of its children were here:\n{output}")


def _start_worker(db: Database, tmp_path: Path, sink: tuple[Sink, int]
                  ) -> subprocess.Popen[str]:
    """``formflow worker`` as its own process (WORKER_SCRIPT), its output in one pipe."""
    return subprocess.Popen(
        [sys.executable, "-c", WORKER_SCRIPT, str(db.url), str(tmp_path / "instance"),
         str(sink[1])],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )


def test_long_running_worker_relays_delivers_and_stops_on_sigterm(
    db: Database, redis: Redis, sink: tuple[Sink, int], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    monkeypatch.setenv("PYTHONFAULTHANDLER", "1")
    submission_id = submit_one(db)  # rows stay pending: only the worker's relay can send them
    worker = _start_worker(db, tmp_path, sink)
    try:
        deadline = time.monotonic() + 60
        while {r.status for r in rows(db, submission_id).values()} - {"sent", "failed"}:
            assert worker.poll() is None, worker.communicate()[0]
            assert time.monotonic() < deadline, "the worker did not deliver within 60 s"
            time.sleep(0.2)
    finally:
        output = stop_worker(worker)
    assert worker.returncode == 0, output
    assert "worker stopped" in output
    assert sink[0].recipients() == ["joerg@example.org"]
    statuses = {k: r.status for k, r in rows(db, submission_id).items()}
    assert statuses == {"applicant": "sent", "coordinator": "failed", "webhook": "sent"}


def test_worker_stopped_during_a_job_finishes_it_and_does_not_restart_its_scheduler(
    db: Database, redis: Redis, sink: tuple[Sink, int], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SIGTERM stops RQ's scheduler at once and the worker after its job. The maintenance
    round that falls due after the job must not start the scheduler again (only for the
    teardown to kill it moments later, racing its start-up)."""
    monkeypatch.setenv("PYTHONFAULTHANDLER", "1")
    queue = notification_queue(redis, RedisNames(NotificationSettings.from_environ(
        {}, database_url=str(db.url), instance_path=str(tmp_path / "instance"),
        base_url="http://127.0.0.1:5000").redis_prefix))
    job = queue.enqueue("time.sleep", 3)
    worker = _start_worker(db, tmp_path, sink)
    try:
        deadline = time.monotonic() + 60
        while job.get_status(refresh=True) != "started":
            assert worker.poll() is None, worker.communicate()[0]
            assert time.monotonic() < deadline, "the worker did not start the job within 60 s"
            time.sleep(0.05)
    finally:
        output = stop_worker(worker)
    assert worker.returncode == 0, output
    assert job.get_status(refresh=True) == "finished", output
    assert output.count("Scheduler for ") == 1, output  # started once, never again


def test_stopping_worker_does_not_wait_for_its_command_listener(redis: Redis) -> None:
    """RQ's worker commands arrive in a redis-py thread that reads for up to 60 s at a time.
    Each stop races that thread (``workers.stopping``): when the thread handled the reply to
    RQ's UNSUBSCRIBE first, the stop used to wait out such a read. A tiny switch interval
    lets the thread win that race often; the stop must end promptly every time."""
    queue = notification_queue(redis, RedisNames("test"))
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for attempt in range(30):
            worker = NotificationWorker([queue], connection=redis)
            worker.subscribe()
            time.sleep(0.05)  # the listener reaches its read, as in a worker that has run
            stopping = threading.Thread(target=worker.unsubscribe, daemon=True)
            stopping.start()
            stopping.join(10)
            assert not stopping.is_alive(), (
                f"stop {attempt + 1} waited for the command listener's read for 10 s")
    finally:
        sys.setswitchinterval(previous)
