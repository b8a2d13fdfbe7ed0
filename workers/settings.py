"""What a notification worker is configured with, read from ``FORMFLOW_*`` once at start.

Everything that decides *how* to deliver lives in :class:`NotificationSettings`, built by
``formflow worker`` from the app's configuration, so a bad SMTP URL or retry list stops the
worker with one clear line instead of failing every delivery later.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from engine.services import RetentionSettings
from workers.channels import configs_from_environ

__all__ = [
    "DEFAULT_JOB_TIMEOUT",
    "DEFAULT_REDIS_PREFIX",
    "KILL_POINTS",
    "KILL_SCOPE_VARIABLE",
    "KILL_VARIABLE",
    "RETRY_INTERVALS",
    "RETRY_INTERVALS_VARIABLE",
    "TIMEZONE_VARIABLE",
    "REDIS_PREFIX_VARIABLE",
    "NotificationSettings",
    "job_timeout_for",
    "parse_redis_prefix",
    "parse_retry_intervals",
]

log = logging.getLogger(__name__)

RETRY_INTERVALS: tuple[int, ...] = (10, 30, 60, 300, 900)
"""Seconds before each retry of a transient failure: six attempts over about 22 minutes."""
RETRY_INTERVALS_VARIABLE = "FORMFLOW_NOTIFY_RETRY_INTERVALS"
TIMEZONE_VARIABLE = "FORMFLOW_TIMEZONE"
DEFAULT_TIMEZONE = "Europe/Berlin"
"""As ``web.config.DEFAULT_TIMEZONE``: the web app hands its own setting to the worker."""
DEFAULT_JOB_TIMEOUT = 120
"""Seconds one delivery may take before RQ kills its work horse (and retries)."""
REDIS_PREFIX_VARIABLE = "FORMFLOW_REDIS_PREFIX"
DEFAULT_REDIS_PREFIX = "formflow"
"""The start of every Redis key and queue name of one installation: two installations sharing
one Redis set different ones (``workers.queueing.RedisNames``)."""
_PREFIX_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What RQ allows in a job id, which the prefix is part of."""
KILL_VARIABLE = "FORMFLOW_TEST_KILL_AT"
"""Failure tests only: the job SIGKILLs itself at this point (see ``KILL_POINTS``)."""
KILL_SCOPE_VARIABLE = "FORMFLOW_TEST_KILL_SCOPE"
"""Failure tests only: ``horse`` (default: the job's process) or ``worker`` (and its parent)."""
KILL_POINTS = ("before_send", "after_send", "after_receipt")
"""Before the channel is called; right after the receiver accepted (nothing recorded yet);
after the Redis receipt was written but before the database recorded the delivery."""


def parse_retry_intervals(raw: str | None) -> tuple[int, ...]:
    """``"10,30,60"`` → ``(10, 30, 60)``; empty or unset → the defaults; ``"none"`` → no retry."""
    text = (raw or "").strip()
    if not text:
        return RETRY_INTERVALS
    if text.lower() == "none":
        return ()
    try:
        intervals = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ValueError(f"{RETRY_INTERVALS_VARIABLE} must be whole seconds separated by commas "
                         f"(e.g. 10,30,60,300,900), not {raw!r}") from None
    if any(seconds < 0 for seconds in intervals):
        raise ValueError(f"{RETRY_INTERVALS_VARIABLE} cannot hold negative seconds: {raw!r}")
    return intervals


def parse_redis_prefix(raw: str | None) -> str:
    """``FORMFLOW_REDIS_PREFIX``: letters, digits, ``_`` and ``-`` (at most 64); unset →
    ``formflow``."""
    text = (raw or "").strip()
    if not text:
        return DEFAULT_REDIS_PREFIX
    if not _PREFIX_PATTERN.fullmatch(text):
        raise ValueError(f"{REDIS_PREFIX_VARIABLE} may hold letters, digits, '_' and '-' "
                         f"(at most 64), not {raw!r}")
    return text


def job_timeout_for(channel_timeouts: Iterable[float]) -> int:
    """Seconds a delivery job may run: room for a slow receiver — three channel timeouts
    (connect, data, quit) plus slack — and never less than :data:`DEFAULT_JOB_TIMEOUT`."""
    return max(DEFAULT_JOB_TIMEOUT, int(3 * max(channel_timeouts, default=0.0) + 30))


@dataclass(frozen=True)
class NotificationSettings:
    """What a worker process needs to deliver: where the database is and how to send.

    The job opens its own :class:`Database` from ``database_url`` for every run: RQ forks a
    work horse per job, and a connection pool must never be shared across a fork.
    """

    database_url: str
    base_url: str
    channel_configs: Mapping[str, Mapping[str, Any]]
    token_key: bytes | None = None
    """Derives the applicant's status link (``engine.services.tokens``); from the secret key."""
    retry_intervals: tuple[int, ...] = RETRY_INTERVALS
    relay_older_than: timedelta = timedelta(seconds=30)
    """The worker's relay leaves rows this young to the request that wrote them."""
    stale_after: timedelta = timedelta(seconds=60)
    """An ``enqueued`` row this old whose job is gone or over is enqueued again (Redis lost
    its data); see :func:`workers.queueing.relay_outbox`."""
    kill_at: str | None = None
    """Test hook (``FORMFLOW_TEST_KILL_AT``); never set in production."""
    kill_scope: str = "horse"
    timezone: str = DEFAULT_TIMEZONE
    """The zone dates in mails are written in (``FORMFLOW_TIMEZONE``, as on the pages)."""
    redis_prefix: str = DEFAULT_REDIS_PREFIX
    """``FORMFLOW_REDIS_PREFIX``: this installation's queue and keys in a shared Redis."""
    retention: RetentionSettings = RetentionSettings()
    """What the scheduled purge applies (``workers.purging``); from the app's settings."""
    purge_every: timedelta = timedelta(days=1)
    """How often the scheduled purge runs; the first run a minute after the first start."""

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, str],
        *,
        database_url: str,
        instance_path: str,
        base_url: str,
        token_key: bytes | None = None,
    ) -> NotificationSettings:
        """Channel configurations and retry intervals from ``FORMFLOW_*``; a bad SMTP URL or
        interval list is refused right here (``ChannelConfigError`` / ``ValueError``)."""
        kill_at = (environ.get(KILL_VARIABLE) or "").strip() or None
        if kill_at is not None:
            if (environ.get("FORMFLOW_ENV") or "").strip().lower() == "production":
                log.warning("%s is ignored in production", KILL_VARIABLE)
                kill_at = None
            elif kill_at not in KILL_POINTS:
                raise ValueError(f"{KILL_VARIABLE} must be one of {', '.join(KILL_POINTS)}")
        scope = (environ.get(KILL_SCOPE_VARIABLE) or "horse").strip()
        if scope not in ("horse", "worker"):
            raise ValueError(f"{KILL_SCOPE_VARIABLE} must be horse or worker, not {scope!r}")
        zone = (environ.get(TIMEZONE_VARIABLE) or "").strip() or DEFAULT_TIMEZONE
        try:
            ZoneInfo(zone)
        except (KeyError, ValueError):  # ZoneInfoNotFoundError is a KeyError
            raise ValueError(f"{TIMEZONE_VARIABLE} must be an IANA time zone such as "
                             f"{DEFAULT_TIMEZONE}, not {zone!r}") from None
        return cls(
            database_url,
            base_url.rstrip("/"),
            configs_from_environ(environ, instance_path),
            token_key=token_key,
            retry_intervals=parse_retry_intervals(environ.get(RETRY_INTERVALS_VARIABLE)),
            kill_at=kill_at,
            kill_scope=scope,
            timezone=zone,
            redis_prefix=parse_redis_prefix(environ.get(REDIS_PREFIX_VARIABLE)),
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def job_timeout(self) -> int:
        return job_timeout_for(float(config.get("timeout", 0) or 0)
                               for config in self.channel_configs.values())

    def status_url(self, token: str | None) -> str:
        return f"{self.base_url}/status/{token}" if token else f"{self.base_url}/"

    def inbox_url(self, submission_id: str) -> str:
        """The coordinator's page of a submission (``web/coordinator``): behind the sign-in,
        for staff mails."""
        return f"{self.base_url}/inbox/{submission_id}"

    def resume_url(self, token: str) -> str:
        """The applicant page that takes a draft's resume token (``web/applicant``)."""
        return f"{self.base_url}/resume/{token}"
