"""(b) A worker SIGKILLed in the middle of a delivery: the notification still arrives; where it
arrives twice, both copies carry the same Message-ID / delivery id, so receivers can tell.

The kill comes from the job itself at a named point (``FORMFLOW_TEST_KILL_AT``, inert unless
set, refused in production), once per outbox row; the retry then runs through.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.records import OutboxRecord
from engine.services import Database, notifications_for
from support.notifications import (
    COORDINATOR,
    HookReceiver,
    MailSink,
    RedisServer,
    WorkerProcess,
    kill_session,
    wait_for,
)
from workers.channels.mail import message_id_for
from workers.jobs import MAX_INTERRUPTED, RedisNames


def submit(client: FlaskClient) -> dict[str, Any]:
    response = client.post("/api/forms/signup/submissions", json={
        "answers": {"name": "Jörg Müller", "email": "joerg@example.org"}, "language": "de"})
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def all_sent(db: Database, submission_id: str) -> list[OutboxRecord] | None:
    rows = notifications_for(db, submission_id)
    return rows if rows and all(row.status == "sent" for row in rows) else None


def killed(redis_server: RedisServer, point: str, rows: list[OutboxRecord]) -> set[int]:
    """The rows whose job really was killed at ``point`` (the job notes it before dying)."""
    client = redis_server.client()
    try:
        return {row.id for row in rows
                if client.exists(RedisNames().test_kill_key(point, row.delivery_id))}
    finally:
        client.close()


@pytest.mark.parametrize(
    ("point", "copies"),
    [
        ("before_send", 1),     # nothing went out: the retry sends it once
        ("after_send", 2),      # accepted, nothing recorded: sent again, same Message-ID
        ("after_receipt", 1),   # the Redis receipt was written: the retry only records it
    ],
)
def test_a_work_horse_killed_mid_delivery_still_delivers(
    point: str, copies: int, app: Flask, db: Database, redis_server: RedisServer,
    mail_sink: MailSink, hook: HookReceiver, start_worker: Callable[..., WorkerProcess],
) -> None:
    worker = start_worker("--fork", FORMFLOW_TEST_KILL_AT=point)
    created = submit(app.test_client())
    rows = wait_for(lambda: all_sent(db, created["id"]) or not worker.alive(), timeout=120,
                    what=f"delivery after a kill at {point}")
    assert worker.alive(), worker.output()
    assert killed(redis_server, point, rows) == {row.id for row in rows}, worker.output()
    assert "Work-horse terminated unexpectedly" in worker.output()

    mail_rows = [row for row in rows if row.channel == "mail"]
    assert {row.recipient for row in mail_rows} == {"joerg@example.org", COORDINATOR}
    expected = {message_id_for(row.delivery_id): copies for row in mail_rows}
    assert dict(mail_sink.message_ids()) == expected
    [webhook_row] = [row for row in rows if row.channel == "webhook"]
    assert dict(hook.delivery_ids()) == {webhook_row.delivery_id: copies}
    assert all(ok for _id, ok, _body in hook.received)
    if copies == 2:  # the very same message again, not a second rendering
        for row in mail_rows:
            first, second = [m for m in mail_sink.messages()
                             if m["Message-ID"] == message_id_for(row.delivery_id)]
            assert first.get_body(("plain",)).get_content() == \
                second.get_body(("plain",)).get_content()
        first_event, second_event = [body for _id, _ok, body in hook.received]
        assert first_event == second_event


@pytest.mark.slow
@pytest.mark.parametrize("options", [(), ("--fork",)], ids=["in-process", "fork"])
def test_a_whole_worker_killed_after_the_send_is_recovered_by_the_next_worker(
    options: tuple[str, ...], app: Flask, db: Database, mail_sink: MailSink,
    hook: HookReceiver, start_worker: Callable[..., WorkerProcess],
) -> None:
    """The worker process itself dies (with its work horse, if it forks one): a container
    killed, a machine lost — or, for the default in-process worker, any crash of a delivery.
    Nobody is left to notice at once: RQ's registry maintenance in the next worker finds the
    job abandoned when its heartbeat expires (about 90 s) and retries it; the dead run's lock
    is taken over."""
    first = start_worker(*options, FORMFLOW_TEST_KILL_AT="after_send",
                         FORMFLOW_TEST_KILL_SCOPE="worker")
    created = submit(app.test_client())
    wait_for(lambda: not first.alive(), timeout=60, what="the worker to be killed")
    kill_session(first.pid)  # its scheduler process too: nothing of it may survive
    rows = notifications_for(db, created["id"])
    assert [row.status for row in rows].count("sent") == 0, "it died at its first delivery"
    [victim] = [row for row in rows
                if mail_sink.message_ids().get(message_id_for(row.delivery_id))
                or row.delivery_id in hook.delivery_ids()]

    second = start_worker()
    wait_for(lambda: all_sent(db, created["id"]) or not second.alive(), timeout=300,
             what="the next worker to recover the abandoned delivery")
    assert second.alive(), second.output()
    sent_twice = {key for key, count in {**mail_sink.message_ids(),
                                         **hook.delivery_ids()}.items() if count > 1}
    victim_id = (message_id_for(victim.delivery_id) if victim.channel == "mail"
                 else victim.delivery_id)
    assert sent_twice == {victim_id}, "only the interrupted one twice, with the same id"
    for row in rows:
        if row.channel == "mail":
            assert mail_sink.message_ids()[message_id_for(row.delivery_id)] >= 1
        else:
            assert hook.delivery_ids()[row.delivery_id] >= 1


def test_a_notification_whose_runs_keep_dying_is_given_up_not_retried_forever(
    app: Flask, db: Database, redis_server: RedisServer, mail_sink: MailSink,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    """Each run that dies leaves a mark in Redis (three here, as three out-of-memory kills
    would): the next run marks the row failed instead of dying a fourth time."""
    created = submit(app.test_client())
    rows = {row.role or row.channel: row for row in notifications_for(db, created["id"])}
    poisoned = rows["applicant"]
    redis_server.client().set(RedisNames().interrupted_key(poisoned.delivery_id), MAX_INTERRUPTED)
    worker = start_worker()
    wait_for(lambda: all(row.status in ("sent", "failed")
                         for row in notifications_for(db, created["id"])),
             timeout=60, what="every notification to end")
    assert worker.alive(), worker.output()
    final = {row.role or row.channel: row for row in notifications_for(db, created["id"])}
    assert final["applicant"].status == "failed"
    assert "3 deliveries of this notification were interrupted" in (final["applicant"].last_error
                                                                     or "")
    assert final["coordinator"].status == final["webhook"].status == "sent"
    assert mail_sink.to("joerg@example.org") == []
