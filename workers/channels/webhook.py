"""The ``webhook`` channel: POST a signed JSON event to an integrator's URL.

The body is serialised once and those exact bytes are both signed and sent, so the receiver can
verify ``X-Formflow-Signature`` (HMAC-SHA256, :mod:`engine.signing`) over the raw body.
``X-Formflow-Delivery`` carries the delivery id, which stays the same across retries: receivers
use it to ignore a delivery they have already processed.

An administrator writes the URL, so the worker must not become a way into the internal network
(server-side request forgery): the host is resolved once, *every* address it resolves to is
checked (:mod:`workers.channels.targets`), and the connection goes to a checked address — the
name is not looked up a second time, so a DNS answer that changes in between (DNS rebinding)
cannot redirect it. The Host header and TLS (SNI and certificate check) still use the name.
Loopback, private, link-local, multicast, unspecified and reserved addresses are refused unless
``FORMFLOW_WEBHOOK_ALLOW`` allows them; with ``FORMFLOW_ENV=production`` only ``https`` is
used. The secret's variable must start with ``FORMFLOW_WEBHOOK_``, so a definition cannot make
formflow sign bodies with, say, the database password.

Redirects are not followed (a POST silently turned into a GET, or the body sent to another
host, is worse than a clear failure). 5xx, 429, 408, timeouts and connection errors are
transient; any other answer outside 2xx is permanent, and so is a refused target. The error
keeps the receiver's status and a short, cleaned excerpt of its reply for administrators.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import ssl
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from engine.signing import SIGNATURE_HEADER, sign
from engine.workflows import WEBHOOK_SECRET_PREFIX
from workers.channels.base import DeliveryReceipt, WebhookMessage, check_config
from workers.channels.targets import (
    ALLOW_VARIABLE,
    parse_allow_list,
    refusal,
    reply_excerpt,
)
from workers.exceptions import (
    ChannelConfigError,
    PermanentDeliveryError,
    TransientDeliveryError,
)

__all__ = [
    "DELIVERY_HEADER",
    "DEFAULT_WEBHOOK_TIMEOUT",
    "SECRET_PREFIX",
    "WebhookChannel",
    "encode_event",
    "webhook_event",
]

DELIVERY_HEADER = "X-Formflow-Delivery"
DEFAULT_WEBHOOK_TIMEOUT = 10.0
SECRET_PREFIX = WEBHOOK_SECRET_PREFIX
"""Every webhook secret's variable starts so (``engine.workflows`` checks definitions too)."""
_TRANSIENT_STATUS = frozenset({408, 425, 429})
_REPLY_READ_LIMIT = 1024


def webhook_event(
    *,
    delivery_id: str,
    event: str,
    submission: Mapping[str, Any],
    transition: Mapping[str, Any] | None,
    occurred_at: datetime,
) -> dict[str, Any]:
    """The JSON object a webhook receives (INTERFACES: delivery_id, event, submission, …)."""
    return {
        "delivery_id": delivery_id,
        "event": event,
        "submission": dict(submission),
        "transition": dict(transition) if transition is not None else None,
        "occurred_at": occurred_at.isoformat(),
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode_event(event: Mapping[str, Any]) -> bytes:
    """The exact body bytes: UTF-8 JSON, compact, keys sorted (stable across retries)."""
    try:
        return json.dumps(event, ensure_ascii=False, separators=(",", ":"), sort_keys=True,
                          default=_json_default).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise PermanentDeliveryError(f"webhook event cannot be encoded as JSON: {exc}") from None


# -- connections to a checked address -------------------------------------------------------


class _CheckedHTTPConnection(http.client.HTTPConnection):
    """Plain HTTP to ``address``, speaking to ``host`` (its Host header) on ``port``."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to ``address``; SNI and the certificate check are for ``host``, the URL's name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self.tls_context = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls_context)
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        try:
            self.sock = self.tls_context.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _connect(scheme: str, host: str, port: int, addresses: Sequence[str],
             timeout: float) -> http.client.HTTPConnection:
    """A connection to the first of ``addresses`` (all checked) that accepts one."""
    factory = _CheckedHTTPSConnection if scheme == "https" else _CheckedHTTPConnection
    last: OSError | None = None
    for address in addresses:
        connection = factory(host, port, address, timeout)
        try:
            connection.connect()
        except TimeoutError:
            connection.close()
            raise
        except ssl.SSLError:
            connection.close()
            raise
        except OSError as exc:
            connection.close()
            last = exc
            continue
        return connection
    assert last is not None  # addresses is never empty
    raise last


def _resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to for a TCP connection, in the resolver's order."""
    found: list[str] = []
    for _family, _type, _proto, _name, sockaddr in socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM):
        address = str(sockaddr[0])
        if address not in found:
            found.append(address)
    return found


# -- the channel -----------------------------------------------------------------------------


class WebhookChannel:
    """POST one event to ``message.url``, signed with the secret named by ``secret_env``."""

    type: ClassVar[str] = "webhook"
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "timeout": {"type": "number", "exclusiveMinimum": 0,
                        "description": "FORMFLOW_WEBHOOK_TIMEOUT in seconds, default 10"},
            "user_agent": {"type": "string", "description": "User-Agent header"},
            "allow": {"type": "array", "items": {"type": "string"},
                      "description": "FORMFLOW_WEBHOOK_ALLOW: hosts and networks (CIDR) that "
                      "may be non-public addresses"},
            "https_only": {"type": "boolean",
                           "description": "refuse http:// (set when FORMFLOW_ENV=production)"},
        },
    }

    def config_from_environ(self, environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
        raw = environ.get("FORMFLOW_WEBHOOK_TIMEOUT") or str(DEFAULT_WEBHOOK_TIMEOUT)
        try:
            timeout = float(raw)
        except ValueError:
            raise ChannelConfigError(
                f"FORMFLOW_WEBHOOK_TIMEOUT must be a number of seconds, not {raw!r}"
            ) from None
        allow = [part.strip() for part in (environ.get(ALLOW_VARIABLE) or "").split(",")
                 if part.strip()]
        parse_allow_list(allow)  # a typo stops the worker at start, not every delivery
        production = (environ.get("FORMFLOW_ENV") or "").strip().lower() == "production"
        return {"timeout": timeout, "allow": allow, "https_only": production}

    def send(self, message: Any, config: Mapping[str, Any]) -> DeliveryReceipt:
        if not isinstance(message, WebhookMessage):
            raise TypeError(
                f"the webhook channel sends WebhookMessage, not {type(message).__name__}"
            )
        check_config(self, config)
        secret = _secret(message.secret_env)
        where = message.url
        parts = urlsplit(message.url)
        host = parts.hostname
        if parts.scheme not in ("http", "https") or not host:
            raise PermanentDeliveryError(
                f"webhook URL {where!r} is not usable: expected http(s)://host/path"
            )
        if parts.scheme != "https" and config.get("https_only"):
            raise PermanentDeliveryError(
                f"webhook URL {where!r} refused: only https:// is used when "
                "FORMFLOW_ENV=production (the body carries personal data)"
            )
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError as exc:
            raise PermanentDeliveryError(f"webhook URL {where!r} is not usable: {exc}") from None
        timeout = float(config.get("timeout", DEFAULT_WEBHOOK_TIMEOUT))
        addresses = self._checked_addresses(where, host, port, config)

        body = encode_event(message.event)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, secret.encode("utf-8")),
            DELIVERY_HEADER: message.delivery_id,
            "User-Agent": str(config.get("user_agent") or "formflow-webhook"),
        }
        try:
            connection = _connect(parts.scheme, host, port, addresses, timeout)
            try:
                connection.request("POST", target, body=body, headers=headers)
                response = connection.getresponse()
                status = response.status
                reply = reply_excerpt(response.read(_REPLY_READ_LIMIT))
            finally:
                connection.close()
        except TimeoutError:
            raise TransientDeliveryError(
                f"webhook {where} did not answer within {timeout:g} s"
            ) from None
        except (ConnectionRefusedError, socket.gaierror) as exc:
            raise TransientDeliveryError(f"webhook {where} unreachable: {exc}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise TransientDeliveryError(
                f"webhook {where} failed: {exc or type(exc).__name__}"
            ) from None
        except ValueError as exc:  # http.client.InvalidURL: characters a request cannot carry
            raise PermanentDeliveryError(f"webhook URL {where!r} is not usable: {exc}") from None
        if 200 <= status < 300:
            return DeliveryReceipt(self.type, message.delivery_id, f"HTTP {status} from {where}",
                                   extra={"status": status})
        error = f"webhook {where} answered HTTP {status}" + (f": {reply}" if reply else "")
        if status >= 500 or status in _TRANSIENT_STATUS:
            raise TransientDeliveryError(error)
        if 300 <= status < 400:
            error += " (redirects are not followed: configure the final URL)"
        raise PermanentDeliveryError(error)

    @staticmethod
    def _checked_addresses(
        where: str, host: str, port: int, config: Mapping[str, Any]
    ) -> list[str]:
        """The addresses to connect to; a permanent failure if any of them is refused."""
        try:
            addresses = _resolve(host, port)
        except (socket.gaierror, UnicodeError) as exc:
            raise TransientDeliveryError(
                f"webhook {where} unreachable: cannot resolve {host!r} ({exc})"
            ) from None
        allow = parse_allow_list(config.get("allow") or ())
        for address in addresses:
            reason = refusal(host, address, allow)
            if reason is not None:
                raise PermanentDeliveryError(
                    f"webhook {where} refused: {host} resolves to {address}, {reason}; "
                    f"an operator can allow it with {ALLOW_VARIABLE}"
                )
        if not addresses:
            raise TransientDeliveryError(f"webhook {where} unreachable: {host!r} has no address")
        return addresses


def _secret(secret_env: str | None) -> str:
    """The secret named by ``secret_env``, read at the moment of sending.

    Secrets live in the environment, never in definitions or the database: the definition only
    names the variable. Only ``FORMFLOW_WEBHOOK_*`` names are read — a stored version from
    before that rule could name any variable, and the receiver would get an oracle for it.
    """
    if not secret_env or not secret_env.startswith(SECRET_PREFIX):
        raise PermanentDeliveryError(
            f"webhook secret refused: secret_env {secret_env!r} must start with "
            f"{SECRET_PREFIX} (rename the variable and the definition's secret_env)"
        )
    secret = os.environ.get(secret_env)
    if not secret:
        raise PermanentDeliveryError(
            f"webhook secret missing: environment variable {secret_env!r} "
            "is not set (it is named by the notification's secret_env)"
        )
    return secret
