"""Fixtures of the worker tests: an embedded Redis server of the test's own (started in its
instance folder, stopped after the test), so that queues and RQ's keys never meet another
test's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from workers.connection import redis_connection
from workers.embedded import stop_embedded_redis


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Redis]:
    instance = tmp_path / "instance"
    connection = redis_connection(None, instance)
    try:
        yield connection
    finally:
        connection.close()
        stop_embedded_redis(instance)
