"""The workers' side of the outbox: find, mark, and gather what a job needs."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from engine.services import (
    Database,
    create_user,
    delivery,
    mark_enqueued,
    mark_failed,
    mark_sent,
    notifications_for,
    notifications_to_enqueue,
    submit,
)
from support.storage import VALID_ANSWERS


def test_status_moves_and_attempts(published_db: Database, clock: Any) -> None:
    db = published_db
    create_user(db, "coord@example.org", ["coordinator"])
    created = submit(db, "membership", VALID_ANSWERS, "de")
    pending = notifications_to_enqueue(db)
    assert len(pending) == 3
    assert notifications_to_enqueue(db, older_than=timedelta(minutes=1)) == []
    clock.advance(minutes=2)
    assert len(notifications_to_enqueue(db, older_than=timedelta(minutes=1))) == 3

    first, second, third = pending
    assert mark_enqueued(db, first.id)
    assert not mark_enqueued(db, first.id), "a second relay must not enqueue it again"
    assert mark_failed(db, first.id, "smtp down", final=False)
    assert mark_sent(db, first.id)
    assert mark_failed(db, second.id, "x" * 5000, final=True)
    by_id = {o.id: o for o in notifications_for(db, created.id)}
    assert (by_id[first.id].status, by_id[first.id].attempts) == ("sent", 2)
    assert by_id[first.id].delivered_at == clock.now and by_id[first.id].last_error is None
    assert (by_id[second.id].status, len(by_id[second.id].last_error or "")) == ("failed", 2000)
    assert not mark_sent(db, second.id), "failed is final"
    assert [o.id for o in notifications_to_enqueue(db)] == [third.id]


def test_delivery_gathers_submission_event_and_definitions(published_db: Database) -> None:
    db = published_db
    created = submit(db, "membership", VALID_ANSWERS, "en")
    applicant_mail = next(o for o in notifications_for(db, created.id) if o.role == "applicant")
    found = delivery(db, applicant_mail.id)
    assert found.submission.reference == created.reference
    assert found.event.kind == "created"
    assert found.form.id == "membership" and found.workflow.id == "review"
    assert found.workflow.templates[found.outbox.template or ""].subject["en"] == "received"
    context = found.template_context()
    assert context["answers"]["name"] == "Ada Lovelace"
    assert context["submission"]["reference"] == created.reference
    assert context["transition"] == {"id": None, "actor": "applicant", "comment": None}
