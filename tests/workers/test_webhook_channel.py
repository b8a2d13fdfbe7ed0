"""The webhook channel against a real HTTP receiver that verifies signatures."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from engine.signing import verify
from workers.channels import WebhookMessage, get_channel
from workers.channels.webhook import encode_event, webhook_event
from workers.exceptions import PermanentDeliveryError, TransientDeliveryError

SECRET = "wh-s3cret-äö"
SECRET_ENV = "FORMFLOW_WEBHOOK_TEST_SECRET"


@dataclass
class Received:
    delivery_id: str | None
    signature_ok: bool
    content_type: str | None
    event: dict[str, Any]
    host: str | None = None


@dataclass
class Receiver:
    """What an integrator would run: verify the raw body first, then parse it."""

    port: int = 0
    statuses: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    hang: threading.Event | None = None
    reply: bytes | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    @property
    def delivery_ids(self) -> list[str | None]:
        return [r.delivery_id for r in self.requests]


def handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            if receiver.hang is not None:
                receiver.hang.wait(10)
                return
            ok = verify(body, SECRET.encode(), self.headers.get("X-Formflow-Signature"))
            receiver.requests.append(Received(
                self.headers.get("X-Formflow-Delivery"), ok,
                self.headers.get("Content-Type"), json.loads(body), self.headers.get("Host"),
            ))
            status = receiver.statuses.pop(0) if receiver.statuses else 204
            if not ok:
                status = 401
            payload = b"" if status == 204 else f"status {status}: go away".encode()
            if receiver.reply is not None:
                payload = receiver.reply
            self.send_response(status)
            if status in (301, 302, 307, 308):
                self.send_header("Location", "http://127.0.0.1:1/elsewhere")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(state))
    state.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        if state.hang is not None:
            state.hang.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    return SECRET


def message(url: str, delivery_id: str = "17", secret_env: str = SECRET_ENV) -> WebhookMessage:
    event = webhook_event(
        delivery_id=delivery_id,
        event="submission.transition",
        submission={"id": "s1", "reference": "M-2026-00042", "state": "accepted",
                    "form": "membership", "created_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC)},
        transition={"id": "accept", "actor": "coord@example.org", "comment": "Willkommen, Jörg"},
        occurred_at=datetime(2026, 1, 27, 10, 0, tzinfo=UTC),
    )
    return WebhookMessage(delivery_id=delivery_id, url=url, secret_env=secret_env, event=event)


CONFIG = {"timeout": 5.0, "allow": ["127.0.0.1"]}  # the receiver listens on loopback


def test_delivers_signed_event_the_receiver_verifies(receiver: Receiver, secret: str) -> None:
    receipt = get_channel("webhook").send(message(receiver.url), CONFIG)
    assert receipt.detail == f"HTTP 204 from {receiver.url}"
    assert receipt.delivery_id == "17"
    [got] = receiver.requests
    assert got.signature_ok
    assert got.delivery_id == "17"
    assert got.content_type == "application/json"
    assert got.event == {
        "delivery_id": "17",
        "event": "submission.transition",
        "submission": {"id": "s1", "reference": "M-2026-00042", "state": "accepted",
                       "form": "membership", "created_at": "2026-01-02T03:04:00+00:00"},
        "transition": {"id": "accept", "actor": "coord@example.org",
                       "comment": "Willkommen, Jörg"},
        "occurred_at": "2026-01-27T10:00:00+00:00",
    }


def test_retries_carry_the_same_delivery_id_and_body(receiver: Receiver, secret: str) -> None:
    receiver.statuses = [503]
    channel = get_channel("webhook")
    with pytest.raises(TransientDeliveryError, match="HTTP 503: status 503: go away"):
        channel.send(message(receiver.url), CONFIG)
    channel.send(message(receiver.url), CONFIG)
    assert receiver.delivery_ids == ["17", "17"]
    assert receiver.requests[0].event == receiver.requests[1].event
    assert encode_event(message(receiver.url).event) == encode_event(message(receiver.url).event)


@pytest.mark.parametrize("status", [500, 502, 429, 408])
def test_server_errors_and_throttling_are_transient(
    receiver: Receiver, secret: str, status: int
) -> None:
    receiver.statuses = [status]
    with pytest.raises(TransientDeliveryError, match=f"HTTP {status}"):
        get_channel("webhook").send(message(receiver.url), CONFIG)
    assert receiver.delivery_ids == ["17"]


@pytest.mark.parametrize("status", [400, 404, 410, 422])
def test_client_errors_are_permanent(receiver: Receiver, secret: str, status: int) -> None:
    receiver.statuses = [status]
    with pytest.raises(PermanentDeliveryError, match=f"HTTP {status}"):
        get_channel("webhook").send(message(receiver.url), CONFIG)


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_redirect_is_not_followed(receiver: Receiver, secret: str, status: int) -> None:
    """The receiver points elsewhere on loopback (allowed): still only one request is made."""
    receiver.statuses = [status, 204]
    with pytest.raises(PermanentDeliveryError,
                       match=f"HTTP {status}.*redirects are not followed"):
        get_channel("webhook").send(message(receiver.url), CONFIG)
    assert receiver.delivery_ids == ["17"]


def test_the_reply_is_kept_as_status_and_a_short_clean_text(
    receiver: Receiver, secret: str
) -> None:
    """What an internal service answers must not land on a page in bulk or with controls."""
    receiver.statuses = [400]
    receiver.reply = b"-ERR wrong\r\n\x1b[2Jnumber of args\x00" + b"A" * 5000
    with pytest.raises(PermanentDeliveryError) as failed:
        get_channel("webhook").send(message(receiver.url), CONFIG)
    text = str(failed.value)
    prefix = f"webhook {receiver.url} answered HTTP 400: "
    assert text.startswith(prefix + "-ERR wrong [2Jnumber of args AAAA")
    assert len(text) == len(prefix) + 200 and text.endswith("…")
    assert all(ch.isprintable() for ch in text)


def test_the_host_header_names_the_url_host_not_its_address(
    receiver: Receiver, secret: str
) -> None:
    """The connection goes to the checked address; the request still speaks to the name."""
    url = f"http://localhost:{receiver.port}/hook"
    receipt = get_channel("webhook").send(message(url), {**CONFIG, "allow": ["localhost"]})
    assert receipt.detail == f"HTTP 204 from {url}"
    assert [r.host for r in receiver.requests] == [f"localhost:{receiver.port}"]


def test_wrong_secret_is_refused_by_the_receiver(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, "not-the-shared-secret")
    with pytest.raises(PermanentDeliveryError, match="HTTP 401"):
        get_channel("webhook").send(message(receiver.url), CONFIG)
    assert [r.signature_ok for r in receiver.requests] == [False]


def test_missing_secret_is_permanent_and_sends_nothing(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV, raising=False)
    with pytest.raises(PermanentDeliveryError, match=f"secret missing.*{SECRET_ENV}"):
        get_channel("webhook").send(message(receiver.url), CONFIG)
    assert receiver.requests == []


def test_closed_port_is_transient(secret: str) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransientDeliveryError, match="unreachable"):
        get_channel("webhook").send(message(f"http://127.0.0.1:{port}/hook"), CONFIG)


def test_no_answer_within_timeout_is_transient(receiver: Receiver, secret: str) -> None:
    receiver.hang = threading.Event()
    with pytest.raises(TransientDeliveryError, match="did not answer within 0.3 s"):
        get_channel("webhook").send(message(receiver.url), {**CONFIG, "timeout": 0.3})


def test_unusable_url_is_permanent(secret: str) -> None:
    with pytest.raises(PermanentDeliveryError, match="not usable"):
        get_channel("webhook").send(message("not a url"), CONFIG)
