"""Issue 14, items 16 and 17: a database restored under a running Redis, and two
installations sharing one Redis, lose no notification and deliver none twice.

Integer outbox ids start again after a restore and repeat across installations; Redis keeps
what it had (finished jobs, receipts of sends). Every key, job id and delivery id is made of
the row's random UUID, so nothing old can be taken for something new. Real processes
throughout: a Redis server, ``formflow worker`` processes, an SMTP sink counting Message-IDs
and a webhook receiver counting ``X-Formflow-Delivery`` ids.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from engine.records import OutboxRecord
from engine.services import (
    Database,
    create_user,
    import_definition,
    notifications_for,
    publish_form,
    publish_workflow,
)
from engine.storage.tables import Base
from support.notifications import (
    COORDINATOR,
    PASSWORD,
    HookReceiver,
    MailSink,
    RedisServer,
    WorkerProcess,
    form,
    wait_for,
    workflow,
)
from web import create_app
from web.db import get_db
from workers.channels.mail import message_id_for
from workers.queueing import RedisNames


def submit_via_api(client: FlaskClient, label: str, number: int) -> str:
    response = client.post("/api/forms/signup/submissions", json={
        "answers": {"name": f"{label} {number}", "email": f"{label}{number}@example.org"},
        "language": "de",
    })
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict)
    return str(body["id"])


def rows_of(db: Database, submission_ids: list[str]) -> list[OutboxRecord]:
    return [row for sid in submission_ids for row in notifications_for(db, sid)]


def wait_all_sent(db: Database, submission_ids: list[str], *workers: WorkerProcess) -> None:
    def done() -> bool:
        if not all(worker.alive() for worker in workers):
            return True
        return all(row.status == "sent" for row in rows_of(db, submission_ids))

    wait_for(done, timeout=120, what="every notification to be delivered")
    for worker in workers:
        assert worker.alive(), worker.output()


def set_up(db: Database, hook_url: str) -> None:
    """What the ``app`` fixture does to a new database: schema, definitions, a coordinator."""
    db.upgrade()
    import_definition(db, workflow(hook_url), "workflow")
    publish_workflow(db, "review")
    import_definition(db, form(), "form")
    publish_form(db, "signup")
    create_user(db, COORDINATOR, ["coordinator"], PASSWORD)


def assert_each_once(rows: list[OutboxRecord], mail_sink: MailSink, hook: HookReceiver) -> None:
    """Every row's mail arrived exactly once under its Message-ID, every webhook once."""
    mails = mail_sink.message_ids()
    hooks = hook.delivery_ids()
    for row in rows:
        if row.channel == "mail":
            assert mails[message_id_for(row.delivery_id)] == 1, row
        else:
            assert hooks[row.delivery_id] == 1, row
    assert all(count == 1 for count in mails.values()), mails.most_common(3)
    assert all(count == 1 for count in hooks.values()), hooks.most_common(3)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_restored_database_under_a_running_redis_delivers_every_new_notification_once(
    app: Flask, db: Database, redis_server: RedisServer, mail_sink: MailSink,
    hook: HookReceiver, start_worker: Callable[..., WorkerProcess], tmp_path: Path,
) -> None:
    url = str(app.config["DATABASE_URL"])
    snapshot = tmp_path / "backup.sqlite3"
    if db.backend == "sqlite":  # the backup an operator made before the notifications below
        with sqlite3.connect(url.removeprefix("sqlite:///")) as live, \
                sqlite3.connect(snapshot) as copy:
            live.backup(copy)

    worker = start_worker()
    client = app.test_client()
    first = [submit_via_api(client, "first", n) for n in range(4)]
    wait_all_sent(db, first, worker)
    old_rows = rows_of(db, first)
    assert len(old_rows) == 12
    names = RedisNames()
    redis = redis_server.client()
    assert all(redis.exists(names.receipt_key(row.delivery_id)) for row in old_rows)

    # Restore the database to its state before those notifications; Redis keeps everything.
    worker.stop()
    db.dispose()
    if db.backend == "sqlite":
        with sqlite3.connect(snapshot) as copy, \
                sqlite3.connect(url.removeprefix("sqlite:///")) as live:
            copy.backup(live)
    else:  # a schema made again from nothing: migrations and the same imports, ids from 1
        engine = create_engine(url)
        with engine.begin() as connection:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE alembic_version"))
        engine.dispose()
        set_up(db, hook.url)
    assert rows_of(db, first) == []

    worker = start_worker()
    second = [submit_via_api(client, "second", n) for n in range(4)]
    wait_all_sent(db, second, worker)
    new_rows = rows_of(db, second)
    assert len(new_rows) == 12
    assert {row.id for row in new_rows} == {row.id for row in old_rows}, \
        "the restore made the integer ids start again"
    assert not {row.delivery_id for row in new_rows} & {row.delivery_id for row in old_rows}
    assert all(row.attempts == 1 for row in new_rows)
    assert len(mail_sink.messages()) == 16  # 8 rows' worth each round: applicant, coordinator
    assert_each_once(old_rows + new_rows, mail_sink, hook)
    for number in range(4):
        assert len(mail_sink.to(f"second{number}@example.org")) == 1


def test_two_installations_sharing_one_redis_lose_nothing_and_send_nothing_twice(
    app: Flask, db: Database, app_config: dict[str, Any], redis_server: RedisServer,
    mail_sink: MailSink, hook: HookReceiver, start_worker: Callable[..., WorkerProcess],
    tmp_path: Path,
) -> None:
    other_url = f"sqlite:///{tmp_path / 'data' / 'other.sqlite3'}"
    other_app = create_app({**app_config, "DATABASE_URL": other_url, "REDIS_PREFIX": "beta"})
    other_db = get_db(other_app)
    try:
        set_up(other_db, hook.url)
        workers = [start_worker(), start_worker(),
                   start_worker(FORMFLOW_DATABASE_URL=other_url, FORMFLOW_REDIS_PREFIX="beta"),
                   start_worker(FORMFLOW_DATABASE_URL=other_url, FORMFLOW_REDIS_PREFIX="beta")]
        ours: list[str] = []
        theirs: list[str] = []
        for number in range(8):
            ours.append(submit_via_api(app.test_client(), "alpha", number))
            theirs.append(submit_via_api(other_app.test_client(), "beta", number))
        wait_all_sent(db, ours, *workers)
        wait_all_sent(other_db, theirs, *workers)
        our_rows, their_rows = rows_of(db, ours), rows_of(other_db, theirs)
        assert {row.id for row in our_rows} == {row.id for row in their_rows}, \
            "both databases number their rows alike"
        assert all(row.attempts == 1 for row in our_rows + their_rows)
        assert len(mail_sink.messages()) == 32
        assert_each_once(our_rows + their_rows, mail_sink, hook)
        for number in range(8):
            assert len(mail_sink.to(f"alpha{number}@example.org")) == 1
            assert len(mail_sink.to(f"beta{number}@example.org")) == 1
        redis = redis_server.client()
        assert redis.exists(RedisNames("beta").receipt_key(their_rows[0].delivery_id))
        assert not redis.exists(RedisNames().receipt_key(their_rows[0].delivery_id))
    finally:
        other_db.dispose()
