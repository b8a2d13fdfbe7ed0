"""Redis dies while a worker is in the middle of a delivery: ``formflow worker`` stays alive,
starts RQ's worker again once Redis is back, and delivers what is enqueued after the outage.

Real processes throughout: a redis-server the test stops and starts on the same port, a
``formflow worker`` subprocess, an SMTP sink and a webhook receiver that holds the delivery
in progress until Redis is gone.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.services import notifications_for
from engine.storage import Database
from support.notifications import MailSink, RedisServer, WorkerProcess, wait_for


class HeldHook:
    """A webhook receiver that holds every request until :attr:`release` is set, so the test
    decides when the delivery in progress may finish."""

    def __init__(self) -> None:
        self.arrived = threading.Event()
        self.release = threading.Event()
        self.delivery_ids: list[str | None] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                hook.arrived.set()
                hook.release.wait(90)
                hook.delivery_ids.append(self.headers.get("X-Formflow-Delivery"))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def hook() -> Iterator[HeldHook]:
    """Replaces the suite's receiver: the test workflow's webhook points here."""
    receiver = HeldHook()
    try:
        yield receiver
    finally:
        receiver.stop()


def submit(client: FlaskClient, number: int) -> str:
    response = client.post("/api/forms/signup/submissions", json={
        "answers": {"name": f"Person {number}", "email": f"person{number}@example.org"},
        "language": "de",
    })
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict)
    return str(body["id"])


@pytest.mark.slow
@pytest.mark.parametrize("options", [(), ("--fork",)], ids=["in-process", "fork"])
def test_worker_survives_redis_dying_mid_delivery(
    options: tuple[str, ...], app: Flask, db: Database, redis_server: RedisServer,
    mail_sink: MailSink, hook: HeldHook, start_worker: Callable[..., WorkerProcess],
) -> None:
    client = app.test_client()
    first = submit(client, 1)
    worker = start_worker(*options)
    wait_for(hook.arrived.is_set, timeout=90, what="the webhook delivery to start")

    redis_server.stop()  # while the worker waits for the receiver
    hook.release.set()  # the delivery finishes with Redis gone
    wait_for(lambda: "starting it again" in worker.output() or not worker.alive(), timeout=90,
             what="RQ's worker to end on the lost Redis")
    assert worker.alive(), worker.output()
    # The row it was sending is recorded in the database, where delivery is decided.
    wait_for(lambda: {r.status for r in notifications_for(db, first)} == {"sent"},
             timeout=30, what="the first submission's notifications recorded as sent")

    redis_server.start()  # same port, its snapshot loaded
    second = submit(client, 2)
    wait_for(lambda: {r.status for r in notifications_for(db, second)} == {"sent"}
             or not worker.alive(), timeout=150, what="delivery after Redis came back")
    assert worker.alive(), worker.output()
    assert len(mail_sink.to("person2@example.org")) == 1
    [webhook_row] = [r for r in notifications_for(db, second) if r.channel == "webhook"]
    assert hook.delivery_ids.count(webhook_row.delivery_id) == 1
    assert len(mail_sink.to("person1@example.org")) == 1
