"""Webhook targets an administrator may not reach through the worker (server-side request
forgery): loopback, private, link-local, multicast, unspecified and reserved addresses are
refused before any connection, unless the operator allows them (``FORMFLOW_WEBHOOK_ALLOW``).

No test sends traffic anywhere but loopback: a refusal is proved on a loopback listener that
must not see a connection, and for other ranges by the address classification plus a guard
that fails the test should the channel try to open any connection at all.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from workers.channels import WebhookMessage, get_channel
from workers.channels.targets import (
    address_refusal,
    parse_allow_list,
    refusal,
    reply_excerpt,
)
from workers.exceptions import ChannelConfigError, PermanentDeliveryError

SECRET_ENV = "FORMFLOW_WEBHOOK_TARGETS_TEST"


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, "targets-secret")


def message(url: str, secret_env: str = SECRET_ENV) -> WebhookMessage:
    return WebhookMessage(delivery_id="d-1", url=url, secret_env=secret_env,
                          event={"event": "submission.created"})


class Listener:
    """A TCP socket listening on loopback that never accepts: a connection made to it waits
    in its backlog, so :meth:`connections` tells whether anyone connected."""

    def __init__(self, host: str) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.create_server((host, 0), family=family, backlog=8)
        self.port = int(self.sock.getsockname()[1])

    def connections(self) -> int:
        self.sock.setblocking(False)
        count = 0
        while True:
            try:
                accepted, _ = self.sock.accept()
            except BlockingIOError:
                return count
            accepted.close()
            count += 1


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = Listener("127.0.0.1")
    yield found
    found.sock.close()


@pytest.fixture
def listener6() -> Iterator[Listener]:
    try:
        found = Listener("::1")
    except OSError as exc:
        pytest.skip(f"no IPv6 loopback here: {exc}")
    yield found
    found.sock.close()


@pytest.fixture
def no_connections(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Fail loudly instead of connecting anywhere (the channel connects through
    ``socket.create_connection``): what it tried to reach is recorded."""
    attempts: list[Any] = []

    def refuse(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        attempts.append(address)
        raise AssertionError(f"the webhook channel tried to connect to {address}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    return attempts


@pytest.mark.parametrize(("address", "reason"), [
    ("127.0.0.1", "a loopback address"),
    ("127.8.9.10", "a loopback address"),
    ("::1", "a loopback address"),
    ("10.0.0.5", "a private address"),
    ("172.16.3.4", "a private address"),
    ("192.168.1.1", "a private address"),
    ("fd00::1", "a private address"),
    ("169.254.169.254", "a link-local address"),  # cloud metadata services
    ("fe80::1", "a link-local address"),
    ("224.0.0.1", "a multicast address"),
    ("ff02::1", "a multicast address"),
    ("0.0.0.0", "the unspecified address"),
    ("::", "the unspecified address"),
    ("240.0.0.1", "a reserved address"),
    ("100.64.0.1", "not a public address"),  # carrier-grade NAT
    ("::ffff:127.0.0.1", "a loopback address"),  # IPv4-mapped
    ("::ffff:10.1.2.3", "a private address"),
    ("2002:a00:1::1", "a private address"),  # 6to4 around 10.0.0.1
    ("64:ff9b::7f00:1", "a loopback address"),  # NAT64 around 127.0.0.1
    ("93.184.215.14", None),
    ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None),
])
def test_address_classification(address: str, reason: str | None) -> None:
    assert address_refusal(ipaddress.ip_address(address)) == reason


def test_allow_list_by_network_and_by_host_name() -> None:
    allow = parse_allow_list(["10.1.0.0/16", "[::1]", "hooks.internal.", "127.0.0.1"])
    assert refusal("10.1.2.3", "10.1.2.3", allow) is None
    assert refusal("hook.example", "10.1.2.3", allow) is None  # any name resolving into it
    assert refusal("10.2.0.1", "10.2.0.1", allow) == "a private address"
    assert refusal("x", "::1", allow) is None
    assert refusal("x", "127.0.0.2", allow) == "a loopback address"
    assert refusal("Hooks.Internal", "192.168.7.7", allow) is None  # the name is trusted
    assert refusal("other.internal", "192.168.7.7", allow) == "a private address"
    assert refusal("x", "93.184.215.14", parse_allow_list([])) is None


@pytest.mark.parametrize("entry", ["http://127.0.0.1", "10.0.0.0/33", "hooks_internal", "a b"])
def test_a_bad_allow_entry_stops_the_worker_at_start(entry: str) -> None:
    with pytest.raises(ChannelConfigError, match="FORMFLOW_WEBHOOK_ALLOW"):
        get_channel("webhook").config_from_environ(
            {"FORMFLOW_WEBHOOK_ALLOW": f"localhost, {entry}"}, "/tmp")


def test_environment_sets_allow_list_and_https_in_production() -> None:
    channel = get_channel("webhook")
    config = channel.config_from_environ(
        {"FORMFLOW_WEBHOOK_ALLOW": " 127.0.0.1 ,hooks.internal,, ", "FORMFLOW_ENV": "production"},
        "/tmp")
    assert config == {"timeout": 10.0, "allow": ["127.0.0.1", "hooks.internal"],
                      "https_only": True}
    assert channel.config_from_environ({}, "/tmp") == {
        "timeout": 10.0, "allow": [], "https_only": False}


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:{port}/hook",
    "http://127.1.2.3:{port}/hook",
    "http://localhost:{port}/hook",  # a name that resolves to loopback
    "http://[::ffff:127.0.0.1]:{port}/hook",
])
def test_loopback_is_refused_without_a_connection(listener: Listener, url: str) -> None:
    target = url.format(port=listener.port)
    with pytest.raises(PermanentDeliveryError,
                       match=r"refused: .* a loopback address; .*FORMFLOW_WEBHOOK_ALLOW"):
        get_channel("webhook").send(message(target), {"timeout": 5.0})
    assert listener.connections() == 0


def test_ipv6_loopback_is_refused_without_a_connection(listener6: Listener) -> None:
    with pytest.raises(PermanentDeliveryError, match="::1, a loopback address"):
        get_channel("webhook").send(message(f"http://[::1]:{listener6.port}/hook"),
                                    {"timeout": 5.0})
    assert listener6.connections() == 0


def test_allowing_another_network_does_not_allow_loopback(listener: Listener) -> None:
    with pytest.raises(PermanentDeliveryError, match="a loopback address"):
        get_channel("webhook").send(message(f"http://127.0.0.1:{listener.port}/hook"),
                                    {"timeout": 5.0, "allow": ["10.0.0.0/8", "localhost"]})
    assert listener.connections() == 0


@pytest.mark.parametrize("host", ["10.0.0.1", "192.168.0.10", "172.31.255.1", "169.254.169.254",
                                  "[fe80::1]", "[fd12:3456::1]", "224.0.0.251", "0.0.0.0",
                                  "100.100.100.200", "[64:ff9b::a00:1]"])
def test_non_public_targets_are_refused_before_connecting(
    host: str, no_connections: list[Any]
) -> None:
    with pytest.raises(PermanentDeliveryError, match="refused: .*FORMFLOW_WEBHOOK_ALLOW"):
        get_channel("webhook").send(message(f"https://{host}:8443/hook"), {"timeout": 5.0})
    assert no_connections == []


def test_http_is_refused_in_production_even_when_allowed(listener: Listener) -> None:
    with pytest.raises(PermanentDeliveryError, match="only https:// .*production"):
        get_channel("webhook").send(
            message(f"http://127.0.0.1:{listener.port}/hook"),
            {"timeout": 5.0, "allow": ["127.0.0.1"], "https_only": True})
    assert listener.connections() == 0


@pytest.mark.parametrize("name", ["PATH", "FORMFLOW_SECRET_KEY", "FORMFLOW_DATABASE_URL"])
def test_secret_from_outside_the_webhook_prefix_is_refused(
    listener: Listener, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A stored version from before the definition check cannot make the worker sign with it."""
    monkeypatch.setenv(name, "a value the receiver must never get an oracle for")
    with pytest.raises(PermanentDeliveryError, match="must start with FORMFLOW_WEBHOOK_"):
        get_channel("webhook").send(message(f"http://127.0.0.1:{listener.port}/hook", name),
                                    {"timeout": 5.0, "allow": ["127.0.0.1"]})
    assert listener.connections() == 0


def test_reply_excerpt_is_one_short_clean_line() -> None:
    raw = ("\x1b[31mred\x1b[0m\r\nline\x00two\u2028" + "x" * 500).encode()
    excerpt = reply_excerpt(raw)
    assert excerpt.startswith("[31mred [0m line two x")
    assert len(excerpt) == 200 and excerpt.endswith("…")
    assert not any(ord(ch) < 32 or 0x7F <= ord(ch) < 0xA0 for ch in excerpt)
    assert reply_excerpt(b"\xff\xfe ok ") == "\ufffd\ufffd ok"
    assert reply_excerpt(b"") == ""
