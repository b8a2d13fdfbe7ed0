"""The Redis connection producers and workers share: configured URL or the embedded server.

Every RQ object in formflow gets this connection passed explicitly (``connection=``): there is
no global ``rq.Connection`` context and nothing connects at import time, so a web process, a
worker and a test can each hold their own connection to their own instance.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from redis import Redis

from workers.embedded import ensure_embedded_redis

__all__ = ["REDIS_URL_VARIABLE", "redis_connection", "redis_connection_from_environ"]

REDIS_URL_VARIABLE = "FORMFLOW_REDIS_URL"
CONNECT_TIMEOUT = 5.0
"""Seconds to wait for a connection: an unreachable Redis must not hang a web request.
(No read timeout: RQ workers block on the queue for minutes by design.)"""


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
