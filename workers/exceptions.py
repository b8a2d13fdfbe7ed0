"""Why a delivery did not happen, split by what the caller should do next.

A *transient* failure (a 503, a refused connection, a timeout, SMTP 4xx) may succeed later, so
the job is retried with backoff. A *permanent* failure (a 404, a missing webhook secret, an
address the mail server rejects with 5xx) will fail the same way every time: retrying only
delays the operator's view of it, so the outbox row is marked failed at once with the message.
Messages are written for operators and never contain secrets or stack traces.
"""

from __future__ import annotations

__all__ = [
    "ChannelConfigError",
    "DeliveryError",
    "EmbeddedRedisError",
    "PermanentDeliveryError",
    "TransientDeliveryError",
]


class DeliveryError(Exception):
    """Root of every delivery failure a channel raises on purpose."""

    transient: bool = False


class TransientDeliveryError(DeliveryError):
    """The receiver could not take the message now; the same delivery may work later."""

    transient = True


class PermanentDeliveryError(DeliveryError):
    """The message cannot be delivered as configured; retrying would fail the same way."""


class ChannelConfigError(PermanentDeliveryError):
    """The channel's configuration (SMTP URL, timeout, mail folder…) is unusable."""


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis server for the instance folder could not be started or reached."""
