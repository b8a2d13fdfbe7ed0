"""(a) Redis goes away while submissions arrive: nothing is refused, nothing is lost, nothing
is sent twice once Redis is back and the relay has run."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.services import Database, fire_transition, get_submission, notifications_for
from support.notifications import (
    BASE_URL,
    COORDINATOR,
    HookReceiver,
    MailSink,
    RedisServer,
    WorkerProcess,
    wait_for,
)
from web.cli import main


def submit_via_api(client: FlaskClient, number: int) -> dict[str, Any]:
    response = client.post("/api/forms/signup/submissions", json={
        "answers": {"name": f"Person {number}", "email": f"person{number}@example.org"},
        "language": "de",
    })
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict)
    return body


def statuses(db: Database, submission_ids: list[str]) -> list[str]:
    return [row.status for sid in submission_ids for row in notifications_for(db, sid)]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_redis_outage_loses_nothing_and_sends_nothing_twice(
    app: Flask, db: Database, redis_server: RedisServer, mail_sink: MailSink,
    hook: HookReceiver, start_worker: Callable[..., WorkerProcess],
) -> None:
    client = app.test_client()
    before = [submit_via_api(client, n) for n in range(3)]
    ids = [s["id"] for s in before]
    assert set(statuses(db, ids)) == {"enqueued"}, "with Redis up, rows go to the queue at once"

    redis_server.stop()
    during = [submit_via_api(client, n) for n in range(3, 11)]
    # A coordinator acts during the outage too (the pages call the same service).
    fire_transition(db, before[0]["id"], "accept", actor=COORDINATOR, roles=["coordinator"])
    for created in during:
        assert get_submission(db, created["id"]).reference == created["reference"]
    during_ids = [s["id"] for s in during]
    assert set(statuses(db, during_ids)) == {"pending"}, "left for the relay, not lost"
    accepted_rows = [r for r in notifications_for(db, before[0]["id"]) if r.status == "pending"]
    assert len(accepted_rows) == 2  # the accept mail and its webhook

    redis_server.start()
    relayed = app.test_cli_runner().invoke(main, ["outbox", "relay"])
    assert relayed.exit_code == 0, relayed.output
    assert "26 notification(s) enqueued" in relayed.output  # 8 × 3 + 2

    worker = start_worker()
    all_ids = ids + during_ids
    wait_for(lambda: set(statuses(db, all_ids)) == {"sent"} or not worker.alive(),
             timeout=120, what="every notification to be delivered")
    assert worker.alive(), worker.output()
    rows = [row for sid in all_ids for row in notifications_for(db, sid)]
    assert len(rows) == 11 * 3 + 2
    assert all(row.status == "sent" and row.attempts == 1 for row in rows)

    # Each mail exactly once, with the Message-ID its row promises.
    mail_rows = [row for row in rows if row.channel == "mail"]
    counts = mail_sink.message_ids()
    assert sorted(counts.values()) == [1] * len(mail_rows), counts.most_common(3)
    assert len(mail_sink.to(COORDINATOR)) == 11
    for number in range(11):
        received = mail_sink.to(f"person{number}@example.org")
        expected = 2 if number == 0 else 1  # "received", plus "accepted" for the first
        assert len(received) == expected, number
    # Each webhook event exactly once, signed.
    webhook_rows = [row for row in rows if row.channel == "webhook"]
    assert sorted(hook.delivery_ids().values()) == [1] * len(webhook_rows)
    assert set(hook.delivery_ids()) == {row.delivery_id for row in webhook_rows}
    assert all(ok for _id, ok, _body in hook.received)
    # The relay ran again and again in the worker meanwhile: still nothing twice.
    assert worker.alive()
    assert mail_sink.message_ids() == counts


@pytest.mark.parametrize("options", [(), ("--fork",)], ids=["in-process", "fork"])
def test_the_status_link_in_a_mail_opens_the_applicants_status_page(
    options: tuple[str, ...], app: Flask, db: Database, mail_sink: MailSink,
    start_worker: Callable[..., WorkerProcess],
) -> None:
    client = app.test_client()
    created = submit_via_api(client, 1)
    worker = start_worker(*options)
    [mail] = wait_for(lambda: mail_sink.to("person1@example.org"), timeout=60,
                      what="the applicant's mail")
    body = mail.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    link = f"{BASE_URL}/status/{created['token']}"
    assert link in text, text
    assert created["status_url"].endswith(f"/status/{created['token']}")
    page = client.get(link.removeprefix(BASE_URL))
    assert page.status_code == 200
    assert created["reference"] in page.get_data(as_text=True)
    wait_for(lambda: {r.status for r in notifications_for(db, created["id"])} == {"sent"},
             timeout=60, what="every row recorded as sent")
    assert len(mail_sink.messages()) == 2 and worker.alive()
    assert ("a work horse per delivery" in worker.output()) == bool(options)
