"""The workers' scheduled purge: one job under a fixed id, run by a real RQ worker against a
real SQLite database and an embedded Redis; it erases what is past retention and schedules
its own next run."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from redis import Redis
from rq.job import Job

from engine.exceptions import NotFound
from engine.services import (
    Database,
    fire_transition,
    get_submission,
    import_definition,
    publish_form,
    resume,
    save_draft,
    submit,
)
from support.storage import VALID_ANSWERS, form, publish_test_definitions
from workers.jobs import NotificationSettings, RedisNames, configure, notification_queue, run_worker
from workers.purging import purge_job_id, schedule_purge


def test_the_scheduled_purge_erases_what_is_past_retention_and_schedules_itself(
    tmp_path: Path, redis: Redis
) -> None:
    url = f"sqlite:///{tmp_path / 'formflow.sqlite3'}"
    forty_days_ago = datetime.now(UTC) - timedelta(days=40)
    past = Database(url, clock=lambda: forty_days_ago)  # the data was written back then
    past.upgrade()
    publish_test_definitions(past)
    import_definition(past, form(retention_days=30), "form")
    publish_form(past, "membership", 2)
    done = submit(past, "membership", {**VALID_ANSWERS, "name": "Erna Alt"}, "de").id
    fire_transition(past, done, "reject", actor="c@example.org", roles=["coordinator"],
                    comment="nein")
    still_open = submit(past, "membership", {**VALID_ANSWERS, "name": "Otto Offen"}, "de").id
    draft = save_draft(past, "membership", {"name": "Alter Entwurf"})
    past.dispose()

    settings = dataclasses.replace(
        NotificationSettings.from_environ({}, database_url=url,
                                          instance_path=str(tmp_path / "instance"),
                                          base_url="http://127.0.0.1:5000"),
        purge_every=timedelta(hours=1))
    configure(settings)
    queue = notification_queue(redis, RedisNames(settings.redis_prefix))
    try:
        assert schedule_purge(queue, settings.redis_prefix, first_in=timedelta(0))
        # a second worker starting finds the chain there and adds nothing
        assert not schedule_purge(queue, settings.redis_prefix, first_in=timedelta(0))
        run_worker(settings, redis, burst=True)
    finally:
        configure(None)

    db = Database(url)
    try:
        assert get_submission(db, done).answers == {}
        assert get_submission(db, done).erased_at is not None
        assert get_submission(db, still_open).answers["name"] == "Otto Offen"
        with pytest.raises(NotFound):
            resume(db, draft.token)
    finally:
        db.dispose()
    job_id = purge_job_id(settings.redis_prefix)
    scheduled = queue.scheduled_job_registry
    assert scheduled.get_job_ids() == [job_id]  # the next run, an hour from now
    next_run = scheduled.get_scheduled_time(job_id)
    assert timedelta(minutes=55) < next_run - datetime.now(UTC) <= timedelta(hours=1)

    # The next run is the same job: when its time comes it runs and schedules itself again.
    past = Database(url, clock=lambda: forty_days_ago)
    later = submit(past, "membership", {**VALID_ANSWERS, "name": "Lena Später"}, "de").id
    fire_transition(past, later, "reject", actor="c@example.org", roles=["coordinator"],
                    comment="nein")
    past.dispose()
    scheduled.schedule(Job.fetch(job_id, connection=redis), datetime.now(UTC))
    configure(settings)
    try:
        run_worker(settings, redis, burst=True)
    finally:
        configure(None)
    db = Database(url)
    try:
        assert get_submission(db, later).erased_at is not None
    finally:
        db.dispose()
    assert scheduled.get_job_ids() == [job_id]
