"""Notifications from the web app: outbox rows go to the queue right after their commit.

``init_app`` wires the app's :class:`~engine.services.Database` once, so that every path that
writes outbox rows — JSON API, applicant pages, coordinator pages, admin retries, CLI — has them
enqueued without knowing about Redis:

- ``db.on_outbox_committed`` is set to :meth:`Notifier.enqueue`, which the database calls
  right after the transaction that wrote the rows has committed (never inside it, so a worker
  always finds the row). It never raises: when Redis is down the rows simply stay ``pending``
  and a worker's relay enqueues them later; the request keeps its 201.
- ``db.submission_token_key`` is derived from the app's secret key, so applicant tokens can be
  rebuilt by the notification worker (which has the same key) for the status link in mails.

The Redis client is created lazily, on the first enqueue of each process (a gunicorn worker
forked from a preloaded app gets its own). Without ``FORMFLOW_REDIS_URL`` it points at the
embedded server of the instance folder but never starts it — ``formflow run`` and
``formflow worker`` do. After a failed enqueue the notifier leaves Redis alone for a few seconds
(``NOTIFY_BACKOFF_SECONDS``), so an unreachable Redis costs requests nothing while it is down.

Tests where Redis is irrelevant set ``NOTIFY_ENQUEUE=False``: rows are then written and stay
``pending``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app
from redis import Redis

from engine.services import Database
from engine.services.tokens import submission_token_key
from web.config import ConfigError, retention_settings
from web.db import get_db
from workers.connection import producer_connection
from workers.queueing import RedisNames, enqueue_notifications
from workers.settings import (
    DEFAULT_JOB_TIMEOUT,
    REDIS_PREFIX_VARIABLE,
    RETRY_INTERVALS_VARIABLE,
    TIMEZONE_VARIABLE,
    NotificationSettings,
    job_timeout_for,
    parse_redis_prefix,
    parse_retry_intervals,
)

__all__ = [
    "EXTENSION_KEY",
    "Notifier",
    "get_notifier",
    "init_app",
    "notification_environ",
    "worker_settings",
]

EXTENSION_KEY = "formflow_notify"
DEFAULT_BACKOFF_SECONDS = 5.0
DEFAULT_RELAY_INTERVAL = 60
_CONFIG_VARIABLES = {
    "SMTP_URL": "FORMFLOW_SMTP_URL",
    "MAIL_FROM": "FORMFLOW_MAIL_FROM",
    "SMTP_TIMEOUT": "FORMFLOW_SMTP_TIMEOUT",
    "WEBHOOK_TIMEOUT": "FORMFLOW_WEBHOOK_TIMEOUT",
    "WEBHOOK_ALLOW": "FORMFLOW_WEBHOOK_ALLOW",
    "NOTIFY_RETRY_INTERVALS": RETRY_INTERVALS_VARIABLE,
    "TIMEZONE": TIMEZONE_VARIABLE,
    "REDIS_PREFIX": REDIS_PREFIX_VARIABLE,
}
"""``app.config`` keys the channels, the retry schedule and the mails' time zone read, by
environment variable."""

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Derive the token key and install the post-commit enqueue (called by ``create_app``)."""
    config = app.config
    config.setdefault("NOTIFY_ENQUEUE", True)
    config.setdefault("NOTIFY_BACKOFF_SECONDS", DEFAULT_BACKOFF_SECONDS)
    for key, variable in _CONFIG_VARIABLES.items():
        if config.get(key) is None and os.environ.get(variable):
            config[key] = os.environ[variable]
    raw_relay = config.get("NOTIFY_RELAY_INTERVAL") or os.environ.get(
        "FORMFLOW_NOTIFY_RELAY_INTERVAL") or DEFAULT_RELAY_INTERVAL
    try:
        parse_retry_intervals(_text(config.get("NOTIFY_RETRY_INTERVALS")))
        config["REDIS_PREFIX"] = parse_redis_prefix(_text(config.get("REDIS_PREFIX")))
        config["NOTIFY_RELAY_INTERVAL"] = int(raw_relay)
        if config["NOTIFY_RELAY_INTERVAL"] < 1:
            raise ValueError("FORMFLOW_NOTIFY_RELAY_INTERVAL must be at least 1 second")
    except ValueError as exc:
        message = str(exc)
        if "invalid literal" in message:
            message = ("FORMFLOW_NOTIFY_RELAY_INTERVAL must be whole seconds, "
                       f"not {raw_relay!r}")
        raise ConfigError(message) from None

    db = get_db(app)
    db.submission_token_key = submission_token_key(str(config["SECRET_KEY"]))
    notifier = Notifier(app, db)
    app.extensions[EXTENSION_KEY] = notifier
    if config["NOTIFY_ENQUEUE"]:
        db.on_outbox_committed = notifier.enqueue


def get_notifier(app: Flask | None = None) -> Notifier:
    notifier = (app or current_app).extensions[EXTENSION_KEY]
    assert isinstance(notifier, Notifier)
    return notifier


def notification_environ(app: Flask) -> dict[str, str]:
    """The process environment with the app's notification settings laid over it, so values
    given as ``app.config`` (tests, ``test_config``) reach the channels as well."""
    environ = dict(os.environ)
    for key, variable in _CONFIG_VARIABLES.items():
        value = app.config.get(key)
        if value is not None:
            environ[variable] = _text(value)
        elif key == "SMTP_URL":
            environ.pop(variable, None)  # the app says: no SMTP server, write mail files
    environ["FORMFLOW_ENV"] = str(app.config.get("ENV") or "development")
    return environ


def worker_settings(app: Flask) -> NotificationSettings:
    """Everything ``formflow worker`` needs, from the same configuration as the web app.

    Raises ``ChannelConfigError`` / ``ValueError`` with a message for the operator when the
    SMTP URL, a timeout or the retry list is unusable.
    """
    settings = NotificationSettings.from_environ(
        notification_environ(app),
        database_url=str(app.config["DATABASE_URL"]),
        instance_path=app.instance_path,
        base_url=str(app.config.get("BASE_URL") or ""),
        token_key=submission_token_key(str(app.config["SECRET_KEY"])),
    )
    return dataclasses.replace(settings, retention=retention_settings(app.config))


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


class Notifier:
    """The web side of notifications for one app: a lazy Redis client and the enqueue hook."""

    def __init__(self, app: Flask, db: Database) -> None:
        self._db = db
        self._redis_url: str | None = app.config.get("REDIS_URL") or None
        self._instance_path = app.instance_path
        self._backoff = float(app.config["NOTIFY_BACKOFF_SECONDS"])
        self._retry_intervals = parse_retry_intervals(
            _text(app.config.get("NOTIFY_RETRY_INTERVALS")))
        self._app_config: Mapping[str, Any] = app.config
        self._job_timeout: int | None = None
        self.redis_names = RedisNames(str(app.config["REDIS_PREFIX"]))
        """This installation's queue and keys in Redis (``FORMFLOW_REDIS_PREFIX``)."""
        self._lock = threading.Lock()
        self._client: tuple[int, Redis] | None = None
        self._quiet_until = 0.0

    @property
    def redis_description(self) -> str:
        return self._redis_url or f"embedded Redis in {self._instance_path}"

    def connection(self) -> Redis:
        """This process's client (made on first use; a forked child makes its own)."""
        with self._lock:
            pid = os.getpid()
            if self._client is None or self._client[0] != pid:
                self._client = (pid, producer_connection(self._redis_url, self._instance_path))
            return self._client[1]

    def enqueue(self, delivery_ids: list[str]) -> None:
        """The post-commit hook: enqueue the rows with these delivery ids; never raises."""
        if time.monotonic() < self._quiet_until:
            log.info("notifications %s left for the relay (Redis failed moments ago)",
                     delivery_ids)
            return
        try:
            done = enqueue_notifications(
                self._db, self.connection(), delivery_ids, names=self.redis_names,
                retry_intervals=self._retry_intervals, job_timeout=self.job_timeout(),
            )
        except Exception:  # a misconfigured URL, say: the commit stands, the relay will try
            log.exception("notifications %s left for the relay", delivery_ids)
            done = 0
        if done < len(delivery_ids):
            self._quiet_until = time.monotonic() + self._backoff
        else:
            self._quiet_until = 0.0

    def job_timeout(self) -> int:
        """As the worker computes it (from the channel timeouts); the default if unusable."""
        if self._job_timeout is None:
            try:
                self._job_timeout = _job_timeout_from(self._app_config)
            except ValueError as exc:  # the worker refuses to start with it and says why
                log.warning("notification settings: %s", exc)
                self._job_timeout = DEFAULT_JOB_TIMEOUT
        return self._job_timeout


def _job_timeout_from(config: Mapping[str, Any]) -> int:
    timeouts = []
    for key, default in (("SMTP_TIMEOUT", 30.0), ("WEBHOOK_TIMEOUT", 10.0)):
        raw = config.get(key)
        try:
            timeouts.append(float(raw) if raw not in (None, "") else default)
        except (TypeError, ValueError):
            raise ValueError(f"FORMFLOW_{key} must be a number of seconds, not {raw!r}") from None
    return job_timeout_for(timeouts)
