"""The Redis connection producers and workers share: configured URL or the embedded server.

Every RQ object in formflow gets this connection passed explicitly (``connection=``): there is
no global ``rq.Connection`` context and nothing connects at import time, so a web process, a
worker and a test can each hold their own connection to their own instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from workers.embedded import EmbeddedRedisPaths, ensure_embedded_redis

__all__ = [
    "PRODUCER_TIMEOUT",
    "REDIS_URL_VARIABLE",
    "producer_connection",
    "redis_connection",
    "redis_connection_from_environ",
]

REDIS_URL_VARIABLE = "FORMFLOW_REDIS_URL"
CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a connection: an unreachable Redis must not hang a web request.
(No read timeout: RQ workers block on the queue for minutes by design.)"""
PRODUCER_TIMEOUT = 2.0
"""Connect and read timeout of a web process's client: it only enqueues (short commands), and a
Redis that does not answer within this leaves the rows to the relay instead of holding up a
request that has already stored everything."""


def redis_connection(url: str | None, instance_path: str | Path | None = None) -> Redis:
    """A client for ``url`` (``redis://host:port/db``, ``rediss://``, ``unix://``), or — when
    ``url`` is empty — for the instance folder's embedded server, started if needed.

    The client connects lazily: a wrong URL shows up at the first command, as
    ``redis.exceptions.ConnectionError``. A malformed URL is refused at once (``ValueError``).
    """
    if url:
        try:
            return Redis.from_url(url, socket_connect_timeout=CONNECT_TIMEOUT)
        except ValueError as exc:
            raise ValueError(f"{REDIS_URL_VARIABLE} is not a Redis URL ({exc}); "
                             "expected redis://host:port/db") from None
    if instance_path is None:
        raise ValueError(f"no Redis configured: set {REDIS_URL_VARIABLE} or give the "
                         "instance folder for the embedded server")
    return Redis(unix_socket_path=str(ensure_embedded_redis(instance_path)),
                 socket_connect_timeout=CONNECT_TIMEOUT)


def redis_connection_from_environ(environ: Mapping[str, str], instance_path: str | Path) -> Redis:
    """:func:`redis_connection` as ``FORMFLOW_REDIS_URL`` and ``FORMFLOW_INSTANCE`` configure it."""
    return redis_connection(environ.get(REDIS_URL_VARIABLE) or None, instance_path)


def producer_connection(url: str | None, instance_path: str | Path | None = None) -> Redis:
    """A client for processes that only *enqueue* (the web app): short timeouts, one retry.

    Unlike :func:`redis_connection` it never starts the embedded server — a web request is no
    place to spawn daemons, and a test app must not leave one behind. Without ``url`` it points
    at the instance's embedded socket; when no server listens there, commands fail at once
    with ``redis.exceptions.ConnectionError`` and the rows wait for the relay of a worker
    (``formflow worker`` and ``formflow run`` do start the embedded server).
    """
    options: dict[str, Any] = {
        "socket_connect_timeout": PRODUCER_TIMEOUT,
        "socket_timeout": PRODUCER_TIMEOUT,
        # redis-py retries ten times with backoff by default: seconds of a request's time.
        "retry": Retry(NoBackoff(), 1),
    }
    if url:
        try:
            return Redis.from_url(url, **options)
        except ValueError as exc:
            raise ValueError(f"{REDIS_URL_VARIABLE} is not a Redis URL ({exc}); "
                             "expected redis://host:port/db") from None
    if instance_path is None:
        raise ValueError(f"no Redis configured: set {REDIS_URL_VARIABLE} or give the "
                         "instance folder of the embedded server")
    socket_path = EmbeddedRedisPaths.for_instance(instance_path).socket
    return Redis(unix_socket_path=str(socket_path), **options)
