"""The ``webhook`` channel: POST a signed JSON event to an integrator's URL.

The body is serialised once and those exact bytes are both signed and sent, so the receiver can
verify ``X-Formflow-Signature`` (HMAC-SHA256, :mod:`engine.signing`) over the raw body.
``X-Formflow-Delivery`` carries the delivery id, which stays the same across retries: receivers
use it to ignore a delivery they have already processed.

Redirects are not followed (a POST silently turned into a GET, or the body sent to another
host, is worse than a clear failure). 5xx, 429, 408, timeouts and connection errors are
transient; any other answer outside 2xx is permanent.
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

from engine.signing import SIGNATURE_HEADER, sign
from workers.channels.base import DeliveryReceipt, WebhookMessage, check_config
from workers.exceptions import (
    ChannelConfigError,
    PermanentDeliveryError,
    TransientDeliveryError,
)

__all__ = [
    "DELIVERY_HEADER",
    "DEFAULT_WEBHOOK_TIMEOUT",
    "WebhookChannel",
    "encode_event",
    "webhook_event",
]

DELIVERY_HEADER = "X-Formflow-Delivery"
DEFAULT_WEBHOOK_TIMEOUT = 10.0
_TRANSIENT_STATUS = frozenset({408, 425, 429})
_ERROR_BODY_LIMIT = 300


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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_NoRedirect())


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
        return {"timeout": timeout}

    def send(self, message: Any, config: Mapping[str, Any]) -> DeliveryReceipt:
        if not isinstance(message, WebhookMessage):
            raise TypeError(
                f"the webhook channel sends WebhookMessage, not {type(message).__name__}"
            )
        check_config(self, config)
        # Secrets live in the environment, never in definitions or the database: the
        # definition only names the variable, and it is read at the moment of sending.
        secret = os.environ.get(message.secret_env) if message.secret_env else None
        if not secret:
            raise PermanentDeliveryError(
                f"webhook secret missing: environment variable {message.secret_env!r} "
                "is not set (it is named by the notification's secret_env)"
            )
        parts = urlsplit(message.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PermanentDeliveryError(
                f"webhook URL {message.url!r} is not usable: expected http(s)://host/path"
            )
        body = encode_event(message.event)
        request = urllib.request.Request(message.url, data=body, method="POST", headers={
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(body, secret.encode("utf-8")),
            DELIVERY_HEADER: message.delivery_id,
            "User-Agent": str(config.get("user_agent") or "formflow-webhook"),
        })
        timeout = float(config.get("timeout", DEFAULT_WEBHOOK_TIMEOUT))
        where = message.url
        try:
            with _opener().open(request, timeout=timeout) as response:
                status = int(response.status)
                response.read(_ERROR_BODY_LIMIT)
        except urllib.error.HTTPError as exc:
            status = exc.code
            excerpt = _excerpt(exc)
            error = f"webhook {where} answered HTTP {status}{excerpt}"
            if status >= 500 or status in _TRANSIENT_STATUS:
                raise TransientDeliveryError(error) from None
            if 300 <= status < 400:
                error += " (redirects are not followed: configure the final URL)"
            raise PermanentDeliveryError(error) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, TimeoutError):
                raise TransientDeliveryError(
                    f"webhook {where} did not answer within {timeout:g} s"
                ) from None
            raise TransientDeliveryError(f"webhook {where} unreachable: {reason}") from None
        except TimeoutError:
            raise TransientDeliveryError(
                f"webhook {where} did not answer within {timeout:g} s"
            ) from None
        except ValueError as exc:
            raise PermanentDeliveryError(f"webhook URL {where!r} is not usable: {exc}") from None
        except (OSError, http.client.HTTPException) as exc:
            raise TransientDeliveryError(
                f"webhook {where} failed: {exc or type(exc).__name__}"
            ) from None
        if not 200 <= status < 300:
            # urllib raises for >= 400 and we refuse redirects; 1xx/other oddities end here.
            raise PermanentDeliveryError(f"webhook {where} answered HTTP {status}")
        return DeliveryReceipt(self.type, message.delivery_id, f"HTTP {status} from {where}",
                               extra={"status": status})


def _excerpt(error: urllib.error.HTTPError) -> str:
    try:
        text = error.read(_ERROR_BODY_LIMIT).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    finally:
        error.close()
    return f": {' '.join(text.split())}" if text else ""
