"""Delivery channels by type name: ``mail`` and ``webhook``.

The outbox stores a channel name per row; the job looks the channel up here. A new channel
(a chat service, say) is one module with a class like :class:`MailChannel` and one
:func:`register` call — nothing else in the worker changes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from workers.channels.base import (
    Channel,
    DeliveryReceipt,
    MailMessage,
    WebhookMessage,
    check_config,
)
from workers.channels.mail import MailChannel
from workers.channels.webhook import WebhookChannel
from workers.exceptions import PermanentDeliveryError

__all__ = [
    "Channel",
    "DeliveryReceipt",
    "MailChannel",
    "MailMessage",
    "WebhookChannel",
    "WebhookMessage",
    "channel_types",
    "check_config",
    "configs_from_environ",
    "get_channel",
    "register",
]

_REGISTRY: dict[str, Channel] = {"mail": MailChannel(), "webhook": WebhookChannel()}


def register(channel: Channel) -> None:
    """Make ``channel`` available under ``channel.type`` (replacing one of the same name)."""
    _REGISTRY[channel.type] = channel


def get_channel(channel_type: str) -> Channel:
    try:
        return _REGISTRY[channel_type]
    except KeyError:
        known = ", ".join(sorted(_REGISTRY))
        raise PermanentDeliveryError(
            f"unknown notification channel {channel_type!r} (channels: {known})"
        ) from None


def channel_types() -> tuple[str, ...]:
    return tuple(sorted(_REGISTRY))


def configs_from_environ(
    environ: Mapping[str, str], instance_path: str | Path
) -> dict[str, dict[str, Any]]:
    """Every channel's configuration from ``FORMFLOW_*`` variables, checked against its schema.

    Call it when a worker starts, so a bad SMTP URL or timeout stops the worker with a clear
    message instead of failing every delivery later.
    """
    configs: dict[str, dict[str, Any]] = {}
    for name, channel in sorted(_REGISTRY.items()):
        config = channel.config_from_environ(environ, str(instance_path))
        check_config(channel, config)
        configs[name] = config
    return configs
