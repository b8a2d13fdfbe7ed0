"""The one place rows reach the queue: the database's post-commit hook, installed by the app.

No worker runs here; what is checked is what the web process leaves in the database and in
its (private) Redis, and the applicant tokens the worker will rebuild.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from flask import Flask
from rq import Queue

from engine.exceptions import InvalidInput, NotFound, StaleState
from engine.services import (
    Database,
    fire_transition,
    mark_sent,
    notifications_for,
    retry_notification,
    status_token,
    submit,
)
from engine.services.tokens import hash_token, submission_token, submission_token_key
from support.notifications import COORDINATOR, SECRET_KEY, RedisServer
from web import create_app
from web.config import ConfigError
from web.db import get_db
from workers.queueing import RedisNames
from workers.settings import NotificationSettings

ANSWERS = {"name": "Ada", "email": "ada@example.org"}
NAMES = RedisNames()  # the default prefix, as the test app has it


def queued_ids(redis_server: RedisServer) -> list[str]:
    return Queue(NAMES.queue, connection=redis_server.client()).get_job_ids()


def test_rows_are_enqueued_right_after_their_commit(
    app: Flask, db: Database, redis_server: RedisServer
) -> None:
    install = db.on_outbox_committed
    assert install is not None
    seen: list[tuple[list[str], list[str]]] = []

    def observe(delivery_ids: list[str]) -> None:
        # What another process (a worker) sees at the moment of the enqueue: committed rows.
        other = Database(str(app.config["DATABASE_URL"]))
        try:
            with other.read() as store:
                statuses = [row.status for i in delivery_ids
                            if (row := store.outbox.by_delivery_id(i))]
        finally:
            other.dispose()
        seen.append((delivery_ids, statuses))
        install(delivery_ids)

    db.on_outbox_committed = observe
    response = app.test_client().post("/api/forms/signup/submissions",
                                      json={"answers": ANSWERS, "language": "de"})
    assert response.status_code == 201
    rows = notifications_for(db, response.get_json()["id"])
    [(ids, statuses)] = seen
    assert ids == [row.delivery_id for row in rows] and len(ids) == 3
    assert len({str(uuid.UUID(i)) for i in ids}) == 3, "a random UUID for each row"
    assert statuses == ["pending"] * 3, "committed before the hook ran"
    assert [row.status for row in rows] == ["enqueued"] * 3
    assert queued_ids(redis_server) == [f"formflow-outbox-{i}" for i in ids]
    job = Queue("formflow-notifications",
                connection=redis_server.client()).fetch_job(NAMES.job_id(ids[0]))
    assert job is not None
    assert (job.func_name, job.args) == ("workers.jobs.deliver", (ids[0],))
    assert (job.retries_left, job.retry_intervals) == (2, [1, 1])  # NOTIFY_RETRY_INTERVALS


def test_a_rolled_back_transaction_enqueues_nothing(
    app: Flask, db: Database, redis_server: RedisServer
) -> None:
    created = submit(db, "signup", ANSWERS, "de")
    before = queued_ids(redis_server)
    with pytest.raises(StaleState):
        fire_transition(db, created.id, "accept", actor=COORDINATOR, roles=["coordinator"],
                        expected_state="accepted")
    assert queued_ids(redis_server) == before
    assert len(notifications_for(db, created.id)) == 3


def test_a_failing_hook_never_undoes_what_was_committed(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(delivery_ids: list[str]) -> None:
        raise RuntimeError("queue on fire")

    db.on_outbox_committed = broken
    with caplog.at_level(logging.ERROR, logger="engine.storage.database"):
        created = submit(db, "signup", ANSWERS, "de")
    assert [row.status for row in notifications_for(db, created.id)] == ["pending"] * 3
    assert "the relay will pick them up" in caplog.text


def test_with_redis_down_requests_succeed_and_rows_wait_for_the_relay(
    app: Flask, db: Database, redis_server: RedisServer
) -> None:
    redis_server.stop()
    client = app.test_client()
    for number in range(3):  # the first fails fast, the next ones skip Redis for a while
        response = client.post("/api/forms/signup/submissions", json={
            "answers": {"name": f"P{number}", "email": f"p{number}@example.org"}})
        assert response.status_code == 201
        statuses = {row.status for row in notifications_for(db, response.get_json()["id"])}
        assert statuses == {"pending"}


def test_apps_can_leave_the_queue_alone(
    app_config: dict[str, Any], redis_server: RedisServer, app: Flask
) -> None:
    quiet = create_app({**app_config, "NOTIFY_ENQUEUE": False})
    quiet_db = get_db(quiet)
    assert quiet_db.on_outbox_committed is None
    created = submit(quiet_db, "signup", ANSWERS, "de")
    assert {row.status for row in notifications_for(quiet_db, created.id)} == {"pending"}
    assert queued_ids(redis_server) == []
    quiet_db.dispose()


def test_submission_tokens_are_derived_so_the_worker_can_rebuild_the_link(
    app: Flask, db: Database
) -> None:
    key = submission_token_key(SECRET_KEY)
    assert db.submission_token_key == key
    created = submit(db, "signup", ANSWERS, "de")
    assert created.token == submission_token(key, created.id)
    assert len(created.token) == 43 and "=" not in created.token  # 256 bits, base64url
    assert status_token(db, created.id) == created.token

    other_key = submission_token_key("a rotated secret key")
    assert submission_token(other_key, created.id) != created.token
    db.submission_token_key = other_key  # the secret key was rotated: no link, not a wrong one
    assert status_token(db, created.id) is None
    db.submission_token_key = None  # no key at all: tokens are random, links unknown
    random_one = submit(db, "signup", ANSWERS, "de")
    assert random_one.token != submission_token(key, random_one.id)
    db.submission_token_key = key
    assert status_token(db, random_one.id) is None
    with db.read() as store:  # only the hash is stored, as before
        found = store.submissions.by_token_hash(hash_token(created.token))
    assert found is not None and found.id == created.id


def test_retry_notification_rules(db: Database, redis_server: RedisServer) -> None:
    created = submit(db, "signup", ANSWERS, "de")
    first, second, _webhook = notifications_for(db, created.id)
    with pytest.raises(NotFound):
        retry_notification(db, 987654)
    assert mark_sent(db, first.id)
    with pytest.raises(InvalidInput, match="delivered already"):
        retry_notification(db, first.id)
    retry_notification(db, second.id)  # its job still waits: no second copy is queued
    assert queued_ids(redis_server).count(NAMES.job_id(second.delivery_id)) == 1
    redis_server.client().flushdb()  # Redis lost its data: the row is stuck as "enqueued"
    again = retry_notification(db, second.id)  # not failed, but a stuck one may go too
    assert again.status == "pending"
    assert queued_ids(redis_server) == [NAMES.job_id(second.delivery_id)], \
        "enqueued by the hook again"
    assert [r.status for r in notifications_for(db, created.id)][1] == "enqueued"


def test_bad_notification_settings_stop_the_app_and_the_worker(
    app_config: dict[str, Any], app: Flask
) -> None:
    with pytest.raises(ConfigError, match="FORMFLOW_NOTIFY_RETRY_INTERVALS"):
        create_app({**app_config, "NOTIFY_RETRY_INTERVALS": "10,soon"})
    with pytest.raises(ConfigError, match="FORMFLOW_NOTIFY_RELAY_INTERVAL"):
        create_app({**app_config, "NOTIFY_RELAY_INTERVAL": "often"})
    common = {"database_url": "sqlite://", "instance_path": "/tmp", "base_url": "http://x"}
    with pytest.raises(ValueError, match="FORMFLOW_TEST_KILL_AT"):
        NotificationSettings.from_environ({"FORMFLOW_TEST_KILL_AT": "sometime"}, **common)
    armed = NotificationSettings.from_environ({"FORMFLOW_TEST_KILL_AT": "after_send"}, **common)
    assert armed.kill_at == "after_send"
    inert = NotificationSettings.from_environ(
        {"FORMFLOW_TEST_KILL_AT": "after_send", "FORMFLOW_ENV": "production"}, **common)
    assert inert.kill_at is None, "the test hook never works in production"
