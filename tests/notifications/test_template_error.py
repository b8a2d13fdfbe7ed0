"""(d) An administrator's template fails when it is rendered: the notification is marked failed
once, with a message that names the template, the part and the mistake — no retries, no
crash loop — and everything else keeps flowing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from rq.job import Job

from engine.records import OutboxRecord
from engine.services import Database, fire_transition, get_notification, notifications_for
from support.notifications import COORDINATOR, MailSink, RedisServer, WorkerProcess, wait_for
from workers.queueing import RedisNames


@pytest.fixture
def workflow_templates() -> dict[str, Any]:
    """Two mistakes the import cannot see (the syntax is fine): a misspelt answer name, and
    arithmetic that fails on the applicant's data."""
    return {
        "new_submission": {
            "subject": {"de": "Neu: {{ submission.reference }}"},
            "body": {"de": "Hallo,\n\nTelefon: {{ answers.telefon }}"},
        },
        "accepted": {
            "subject": {"de": "Angenommen"},
            "body": {"de": "Anteil: {{ 100 // (answers.name | length - answers.name | length) }}"},
        },
    }


def submit(app: Flask, name: str, address: str) -> str:
    response = app.test_client().post("/api/forms/signup/submissions", json={
        "answers": {"name": name, "email": address}, "language": "de"})
    assert response.status_code == 201, response.get_data(as_text=True)
    return str(response.get_json()["id"])


def settled(db: Database, submission_id: str) -> dict[str, OutboxRecord] | None:
    rows = {row.role or row.channel: row for row in notifications_for(db, submission_id)}
    done = rows and all(row.status in ("sent", "failed") for row in rows.values())
    return rows if done else None


def test_template_errors_are_recorded_once_and_nothing_else_stops(
    app: Flask, db: Database, redis_server: RedisServer, mail_sink: MailSink,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    worker = start_worker("--verbose")  # RQ's own lines show each maintenance round
    first = submit(app, "Ada", "ada@example.org")
    rows = wait_for(lambda: settled(db, first), timeout=60, what="the first notifications")
    broken = rows["coordinator"]
    assert broken.status == "failed" and broken.attempts == 1
    assert broken.last_error == (
        "template 'new_submission' (body, de): line 3: 'dict object' has no attribute 'telefon'"
    )
    assert rows["applicant"].status == "sent" and rows["webhook"].status == "sent"
    assert [m["To"] for m in mail_sink.messages()] == ["ada@example.org"]

    fired = fire_transition(db, first, "accept", actor=COORDINATOR, roles=["coordinator"])
    [accepted] = [row for row in fired.notifications if row.channel == "mail"]
    wait_for(lambda: get_notification(db, accepted.id).status == "failed", timeout=60,
             what="the accepted mail to fail")
    error = get_notification(db, accepted.id).last_error or ""
    assert error.startswith("template 'accepted' (body, de): line 1: ZeroDivisionError")

    # The worker carries on: later submissions are delivered, the failures stay failed
    # (no retry, no relay resurrecting them) while the relay keeps running every second.
    second = submit(app, "Bob", "bob@example.org")
    wait_for(lambda: settled(db, second), timeout=60, what="the next submission's mails")
    rounds = worker.output().count("cleaning registries")  # logged by each maintenance round
    wait_for(lambda: worker.output().count("cleaning registries") >= rounds + 3, timeout=60,
             what="three more maintenance (relay) rounds")
    assert worker.alive(), worker.output()
    assert mail_sink.to("bob@example.org")
    for outbox_id in (broken.id, accepted.id):
        row = get_notification(db, outbox_id)
        assert (row.status, row.attempts) == ("failed", 1)
        job = Job.fetch(RedisNames().job_id(row.delivery_id), connection=redis_server.client())
        assert job.get_status() == "finished", "a template error is no job failure to retry"
    assert "Traceback" not in worker.output()
