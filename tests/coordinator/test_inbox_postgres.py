"""The inbox queries and export on PostgreSQL (the production database), like on SQLite.

The coordinator tests' app on a brand-new PostgreSQL schema per test (``backend`` of
``tests/conftest.py``), dropped afterwards. Without a reachable server these tests are
skipped — unless ``CI=true``, where that is a failure.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from engine.services import (
    Database,
    fire_transition,
    get_user,
    submit,
)
from engine.services.export import export_plan, export_rows
from engine.services.inbox import InboxFilter, assign_submission, inbox_page
from support.coordinator import (
    COORDINATOR,
    Staff,
    answers,
    bulk_insert_submissions,
)

pytestmark = pytest.mark.parametrize("backend", ["postgresql"], indirect=True)


def test_keyset_pages_filters_and_counts_on_postgresql(db: Database) -> None:
    start = datetime(2026, 2, 1, tzinfo=UTC)
    bulk_insert_submissions(db, 230, states=("submitted", "reviewed", "accepted"), start=start)
    bulk_insert_submissions(db, 3, start=start + timedelta(seconds=100))  # ties on created_at

    seen = []
    page = inbox_page(db, InboxFilter(), limit=40)
    assert page.counts == {"submitted": 80, "reviewed": 77, "accepted": 76, "rejected": 0}
    assert page.capped == frozenset()
    capped = inbox_page(db, InboxFilter(form_id="grant"), limit=5, count_cap=77)
    assert capped.counts == {"submitted": 77, "reviewed": 77, "accepted": 76, "rejected": 0}
    assert capped.capped == {"submitted"}
    while True:
        seen += [s.id for s in page.submissions]
        if page.older is None:
            break
        page = inbox_page(db, InboxFilter(), before=page.older, limit=40)
    assert len(seen) == len(set(seen)) == 233

    second = inbox_page(db, InboxFilter(), before=inbox_page(db, InboxFilter(), limit=40).older,
                        limit=40)
    assert [s.id for s in second.submissions] == seen[40:80]
    assert second.newer is not None
    back = inbox_page(db, InboxFilter(), after=second.newer, limit=40)
    assert [s.id for s in back.submissions] == seen[:40]
    assert back.newer is None

    reviewed = inbox_page(db, InboxFilter(state="reviewed"), limit=200)
    assert len(reviewed.submissions) == 77
    assert all(s.state == "reviewed" for s in reviewed.submissions)
    window = InboxFilter(created_from=start + timedelta(seconds=10),
                         created_before=start + timedelta(seconds=20))
    assert len(inbox_page(db, window).submissions) == 10


def test_text_search_assignment_and_export_on_postgresql(app: Flask, db: Database) -> None:
    muller = submit(db, "grant", answers(name="Grete Müller", summary="100% Chor"), "de")
    other = submit(db, "grant", answers(name="Hans Meier"), "de")
    fire_transition(db, other.id, "review", actor=COORDINATOR, roles=["coordinator"])
    assert [s.id for s in inbox_page(db, InboxFilter(text="müller")).submissions] == [muller.id]
    assert [s.id for s in inbox_page(db, InboxFilter(text="100%")).submissions] == [muller.id]
    assert [s.id for s in inbox_page(db, InboxFilter(text="1000%")).submissions] == []
    assert [s.id for s in inbox_page(db, InboxFilter(text=other.reference)).submissions] == [
        other.id]
    me = get_user(db, COORDINATOR)
    assign_submission(db, other.id, me.id, actor=COORDINATOR)
    mine = inbox_page(db, InboxFilter(assigned_to=me.id))
    assert [s.id for s in mine.submissions] == [other.id]
    assert mine.counts == {"submitted": 0, "reviewed": 1, "accepted": 0, "rejected": 0}

    plan = export_plan(db, InboxFilter())
    rows = list(export_rows(db, plan.where, batch_size=1))
    assert [r.reference for r in rows] == [other.reference, muller.reference]

    client = Staff(app).client(COORDINATOR)
    page = client.get("/inbox?q=m%C3%BCller").get_data(as_text=True)
    assert muller.reference in page and other.reference not in page
    body = client.get("/inbox/export.csv").get_data(as_text=True)
    assert body.startswith("\ufeffreference,") and "Grete Müller" in body
