"""What every channel shares: the messages it is given, the receipt it returns, its config.

A channel is deliberately small (redash's destinations are the model): a ``type`` name, a
``config_schema`` (JSON Schema) documenting the configuration keys it reads, and
``send(message, config)``. It knows nothing of the database, RQ or retries: the job decides
what a :class:`~workers.exceptions.TransientDeliveryError` or a receipt means for the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from jsonschema import Draft202012Validator

from workers.exceptions import ChannelConfigError

__all__ = [
    "Channel",
    "DeliveryReceipt",
    "MailMessage",
    "WebhookMessage",
    "check_config",
]


@dataclass(frozen=True, slots=True)
class MailMessage:
    """One rendered mail to one recipient.

    ``delivery_id`` is the outbox row's random UUID; it becomes the ``Message-ID`` and the
    ``X-Formflow-Delivery`` header, so a mail that is sent again after a crash carries the same
    id and receivers can drop the duplicate — and a new notification never carries an old one's
    id, not even after a database restore.
    """

    delivery_id: str
    to: str
    subject: str
    text: str
    html: str
    language: str = "de"


@dataclass(frozen=True, slots=True)
class WebhookMessage:
    """One event to POST; ``event`` is the JSON object sent, exactly as it will be signed."""

    delivery_id: str
    url: str
    secret_env: str
    event: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """Proof of a delivery, for the outbox row and the log."""

    channel: str
    delivery_id: str
    detail: str
    """What the receiver said or where the message went: ``HTTP 204``, ``250 OK``, a file path."""
    message_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class Channel(Protocol):
    type: ClassVar[str]
    config_schema: ClassVar[Mapping[str, Any]]

    def config_from_environ(
        self, environ: Mapping[str, str], instance_path: str
    ) -> dict[str, Any]:
        """The channel's configuration as the ``FORMFLOW_*`` environment defines it."""
        ...

    def send(self, message: Any, config: Mapping[str, Any]) -> DeliveryReceipt:
        """Deliver ``message``; raise a ``DeliveryError`` subclass when that did not happen."""
        ...


def check_config(channel: Channel, config: Mapping[str, Any]) -> None:
    """Refuse a configuration that does not match the channel's schema, naming every key."""
    validator = Draft202012Validator(channel.config_schema)
    problems = sorted(
        f"{'/'.join(str(p) for p in error.absolute_path) or '(config)'}: {error.message}"
        for error in validator.iter_errors(dict(config))
    )
    if problems:
        raise ChannelConfigError(f"{channel.type} channel configuration: " + "; ".join(problems))
