"""(c) The mail server is down: the worker retries (short intervals here), then records the
failure where people see it — the outbox row, the coordinator's timeline, ``formflow outbox
list`` — and a retry (the service behind the admin button and ``formflow outbox retry``)
delivers it once the server is back."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from engine.records import OutboxRecord
from engine.services import Database, get_notification, notifications_for
from support.notifications import (
    COORDINATOR,
    PASSWORD,
    HookReceiver,
    MailSink,
    WorkerProcess,
    wait_for,
)
from support.signin import signed_in
from web.cli import main
from workers.channels.mail import message_id_for


def by_role(db: Database, submission_id: str) -> dict[str, OutboxRecord]:
    return {row.role or row.channel: row for row in notifications_for(db, submission_id)}


def test_smtp_outage_is_retried_recorded_shown_and_retried_by_hand(
    app: Flask, db: Database, mail_sink: MailSink, hook: HookReceiver,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    mail_sink.stop()  # nothing listens on its port now
    worker = start_worker()
    response = app.test_client().post("/api/forms/signup/submissions", json={
        "answers": {"name": "Ada", "email": "ada@example.org"}, "language": "de"})
    assert response.status_code == 201
    submission_id = response.get_json()["id"]

    def mails_failed() -> bool:
        rows = by_role(db, submission_id)
        return all(rows[r].status == "failed" for r in ("applicant", "coordinator"))

    wait_for(lambda: mails_failed() or not worker.alive(), timeout=90,
             what="the mail notifications to fail after their retries")
    assert worker.alive(), worker.output()
    rows = by_role(db, submission_id)
    applicant = rows["applicant"]
    assert applicant.attempts == 3, "the first try and the two retries of FORMFLOW_NOTIFY_…"
    assert f"SMTP server 127.0.0.1:{mail_sink.port} unreachable" in (applicant.last_error or "")
    assert rows["webhook"].status == "sent", "other channels are not held up"

    # Visible where people look: the submission's timeline and the CLI.
    page = signed_in(app, COORDINATOR, PASSWORD).get(f"/inbox/{submission_id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "ada@example.org" in html and f"127.0.0.1:{mail_sink.port} unreachable" in html
    listed = app.test_cli_runner().invoke(main, ["outbox", "list"])
    assert listed.exit_code == 0, listed.output
    assert f"{applicant.id}\tfailed\t3\tmail:ada@example.org\t{submission_id}" in listed.output

    mail_sink.start()  # the server is back on the same port
    retried = app.test_cli_runner().invoke(main, ["outbox", "retry", str(applicant.id)])
    assert retried.exit_code == 0, retried.output
    assert "enqueued for another try" in retried.output
    wait_for(lambda: get_notification(db, applicant.id).status == "sent", timeout=60,
             what="the retried notification to be delivered")
    done = get_notification(db, applicant.id)
    assert (done.attempts, done.last_error) == (4, None)
    assert dict(mail_sink.message_ids()) == {message_id_for(applicant.delivery_id): 1}
    assert get_notification(db, rows["coordinator"].id).status == "failed", "only what was retried"
    assert len(hook.received) == 1

    again = app.test_cli_runner().invoke(main, ["outbox", "retry", str(applicant.id)])
    assert again.exit_code == 1
    assert "delivered already" in again.output
    unknown = app.test_cli_runner().invoke(main, ["outbox", "retry", "999999"])
    assert unknown.exit_code == 1 and "no notification 999999" in unknown.output
