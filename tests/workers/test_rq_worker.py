"""RQ against the real Redis at 127.0.0.1:6379: enqueue by id, burst worker, retries.

Skipped when that Redis is unreachable, except with CI=true, where it must be there.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry, get_current_job
from rq import Worker as RQWorker

from workers.stopping import PromptUnsubscribe


class Worker(PromptUnsubscribe, RQWorker):
    """RQ's worker with the prompt exit formflow's workers have (``workers.stopping``)."""


REDIS_URL = "redis://127.0.0.1:6379/0"


def count_attempt(key: str, fail_times: int) -> int:
    """A trivial job: counts its runs in Redis and fails the first ``fail_times`` of them."""
    job = get_current_job()
    assert job is not None
    attempt = int(job.connection.incr(key))
    if attempt <= fail_times:
        raise RuntimeError(f"attempt {attempt} fails on purpose")
    return attempt


@pytest.fixture
def connection() -> Iterator[Redis]:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except RedisError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis at {REDIS_URL} is required in CI: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def queue(connection: Redis) -> Iterator[Queue]:
    # A queue of its own, so parallel test runs on the shared Redis never see each other's jobs.
    own = Queue(f"test-notifications-{uuid.uuid4().hex}", connection=connection)
    try:
        yield own
    finally:
        # Every key of this test carries its queue's unique suffix: remove them all.
        suffix = own.name.removeprefix("test-notifications-")
        leftovers = list(own.connection.scan_iter(match=f"*{suffix}*", count=1000))
        if leftovers:
            own.connection.delete(*leftovers)
        own.delete(delete_jobs=True)


def test_burst_worker_runs_a_job_enqueued_under_a_stable_id(queue: Queue) -> None:
    key = f"test-attempts-{queue.name}"
    job = queue.enqueue(count_attempt, key, 0, job_id=f"outbox-{key}")
    assert job.id == f"outbox-{key}"
    assert Worker([queue], connection=queue.connection).work(burst=True)
    job.refresh()
    assert job.get_status() == "finished"
    assert job.return_value() == 1
    queue.connection.delete(key)


def test_failed_job_is_retried_by_the_worker(queue: Queue) -> None:
    key = f"test-attempts-{queue.name}"
    job = queue.enqueue(count_attempt, key, 2, job_id=f"outbox-{key}",
                        retry=Retry(max=3, interval=0))
    Worker([queue], connection=queue.connection).work(burst=True)
    job.refresh()
    assert job.get_status() == "finished"
    assert job.return_value() == 3
    assert int(queue.connection.get(key) or 0) == 3
    queue.connection.delete(key)


def test_job_fails_for_good_when_retries_are_used_up(queue: Queue) -> None:
    key = f"test-attempts-{queue.name}"
    job = queue.enqueue(count_attempt, key, 5, job_id=f"outbox-{key}",
                        retry=Retry(max=1, interval=0))
    Worker([queue], connection=queue.connection).work(burst=True)
    job.refresh()
    assert job.get_status() == "failed"
    assert int(queue.connection.get(key) or 0) == 2
    assert job.id in queue.failed_job_registry.get_job_ids()
    queue.connection.delete(key)
