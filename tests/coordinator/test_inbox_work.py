"""Inbox work on both databases: bulk actions, saved views, counts per form, overdue marker."""

from __future__ import annotations

import copy
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask

from engine.services import (
    Database,
    get_submission,
    get_user,
    history,
    import_definition,
    publish_form,
    publish_workflow,
    submit,
)
from engine.services.inbox import bulk_transition, pinned_definitions, state_ages
from support.coordinator import (
    COORDINATOR,
    OTHER_COORDINATOR,
    WORKFLOW,
    Staff,
    answers,
    bulk_insert_submissions,
    form,
    post_form,
)
from support.postgres import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS

ROW = re.compile(r'<tr data-id="([0-9a-f]{32})">')


def _count(page: str, state: str) -> int | None:
    found = re.search(rf'<span class="count" data-state="{state}">(\d+)</span>', page)
    return int(found.group(1)) if found else None


def _summary(page: str) -> dict[str, str]:
    return dict(re.findall(r'<li class="(?:ok|failed)" data-id="([0-9a-f]{32})">(.*?)</li>',
                           page))


def test_bulk_transition_fires_each_and_reports_failures(app: Flask, db: Database) -> None:
    a = submit(db, "grant", answers(name="Anna"), "de")
    b = submit(db, "grant", answers(name="Bert"), "de")
    c = submit(db, "grant", answers(name="Carl"), "de")
    client = Staff(app).client(COORDINATOR)
    # "accept" is only possible from "reviewed": the first two are reviewed, c is not
    response = post_form(client, "/inbox", "/inbox/bulk",
                         {"selected": [a.id, b.id], "transition": "review", "do": "transition"})
    assert response.status_code == 200
    summary = _summary(response.get_data(as_text=True))
    assert set(summary) == {a.id, b.id} and all("Erledigt" in t for t in summary.values())
    data = {"selected": [a.id, c.id], "transition": "accept", "do": "transition"}
    asked = post_form(client, "/inbox", "/inbox/bulk", data)  # a final decision: asked first
    assert asked.status_code == 200 and 'id="confirm-question"' in asked.get_data(as_text=True)
    assert get_submission(db, a.id).state == "reviewed"
    response = post_form(client, "/inbox", "/inbox/bulk", {**data, "confirmed": "1"})
    summary = _summary(response.get_data(as_text=True))
    assert "Erledigt" in summary[a.id]
    assert "nicht möglich" in summary[c.id]
    assert get_submission(db, a.id).state == "accepted"
    assert get_submission(db, b.id).state == "reviewed"
    assert get_submission(db, c.id).state == "submitted"
    # recorded as if fired one by one: one transition event each, by the coordinator
    events = [e for e in history(db, a.id) if e.kind == "transition"]
    assert [(e.transition, e.actor) for e in events] == [("review", COORDINATOR),
                                                        ("accept", COORDINATOR)]


def test_required_message_is_asked_once_for_all(app: Flask, db: Database) -> None:
    a = submit(db, "grant", answers(), "de")
    b = submit(db, "grant", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    data = {"selected": [a.id, b.id], "transition": "reject", "do": "transition"}
    refused = post_form(client, "/inbox", "/inbox/bulk", data)
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "Nachricht" in page and 'id="bulk-error"' in page
    assert page.count(" checked") >= 2  # the selection is kept
    assert get_submission(db, a.id).state == "submitted"
    done = post_form(client, "/inbox", "/inbox/bulk",
                     {**data, "comment": "Leider nicht.", "confirmed": "1"})
    assert done.status_code == 200
    for submission in (a, b):
        assert get_submission(db, submission.id).state == "rejected"
        comments = [e.comment for e in history(db, submission.id) if e.kind == "transition"]
        assert comments == ["Leider nicht."]


def test_a_final_step_for_many_is_confirmed_first(app: Flask, db: Database) -> None:
    """Like a single final decision: a page asks (without JavaScript), naming the step, the
    number of submissions, the final state and the message; "yes" posts everything again."""
    a = submit(db, "grant", answers(), "de")
    b = submit(db, "grant", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    data = {"selected": [a.id, b.id], "transition": "reject", "do": "transition",
            "comment": "Leider nicht."}
    asked = post_form(client, "/inbox?state=submitted", "/inbox/bulk?state=submitted", data)
    page = asked.get_data(as_text=True)
    assert asked.status_code == 200
    question = re.search(r'<p id="confirm-question">\s*(.*?)\s*</p>', page, re.DOTALL)
    assert question and "2" in question.group(1) and "Abgelehnt" in question.group(1)
    assert "Leider nicht." in page
    assert page.count('name="selected"') == 2 and 'name="confirmed" value="1"' in page
    assert 'action="/inbox/bulk?state=submitted"' in page
    assert {get_submission(db, s.id).state for s in (a, b)} == {"submitted"}
    # an ordinary step is not asked about
    review = post_form(client, "/inbox", "/inbox/bulk",
                       {"selected": [a.id], "transition": "review", "do": "transition"})
    assert 'id="confirm-question"' not in review.get_data(as_text=True)
    assert get_submission(db, a.id).state == "reviewed"


def test_bulk_assign_and_hostile_selections(app: Flask, db: Database) -> None:
    a = submit(db, "grant", answers(), "de")
    b = submit(db, "grant", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    other = get_user(db, OTHER_COORDINATOR)
    assert other is not None
    response = post_form(client, "/inbox", "/inbox/bulk",
                         {"selected": [a.id, b.id, "f" * 32, "x" * 500],
                          "do": "assign", "assignee": str(other.id)})
    summary = _summary(response.get_data(as_text=True))
    assert "Zugewiesen" in summary[a.id] and "Zugewiesen" in summary[b.id]
    assert "Nicht gefunden" in summary["f" * 32]
    assert get_submission(db, a.id).assigned_to == other.id
    assert post_form(client, "/inbox", "/inbox/bulk", {"do": "assign"}).status_code == 422
    assert post_form(client, "/inbox", "/inbox/bulk",
                     {"selected": a.id, "do": "assign", "assignee": "abc"}).status_code == 422
    # without the CSRF token nothing happens
    no_token = client.post("/inbox/bulk", data={"selected": b.id, "do": "assign",
                                                "assignee": "none"})
    assert no_token.status_code == 400
    assert get_submission(db, b.id).assigned_to == other.id


def test_bulk_service_keeps_going_after_a_refusal(db: Database) -> None:
    a = submit(db, "grant", answers(), "de")
    b = submit(db, "grant", answers(), "de")
    outcomes = bulk_transition(db, [a.id, "0" * 32, b.id, a.id], "review",
                               actor=COORDINATOR, roles=["coordinator"])
    assert [(o.submission_id, o.ok) for o in outcomes] == [(a.id, True), ("0" * 32, False),
                                                          (b.id, True)]


def test_saved_views_per_user(app: Flask, db: Database) -> None:
    client = Staff(app).client(COORDINATOR)
    saved = post_form(client, "/inbox?state=reviewed&mine=1",
                      "/inbox/views?state=reviewed&mine=1", {"name": "Meine Geprüften"})
    assert saved.status_code == 303
    page = client.get("/inbox").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)">Meine Geprüften</a>', page)
    assert link is not None
    target = link.group(1).replace("&amp;", "&")
    assert target == "/inbox?state=reviewed&mine=1"
    applied = client.get(target).get_data(as_text=True)
    assert 'value="reviewed" selected' in applied
    # another coordinator does not see it
    other = Staff(app).client(OTHER_COORDINATOR).get("/inbox").get_data(as_text=True)
    assert "Meine Geprüften" not in other
    assert post_form(client, "/inbox", "/inbox/views", {"name": "  "}).status_code == 422
    too_long = post_form(client, "/inbox", "/inbox/views?q=" + "ü" * 200, {"name": "Lang"})
    assert too_long.status_code == 422
    assert "zu lang" in too_long.get_data(as_text=True)
    view_id = re.search(r'/inbox/views/(\d+)/delete', page)
    assert view_id is not None
    assert post_form(Staff(app).client(OTHER_COORDINATOR), "/inbox",
                     f"/inbox/views/{view_id.group(1)}/delete", {}).status_code == 404
    deleted = post_form(client, "/inbox", f"/inbox/views/{view_id.group(1)}/delete", {})
    assert deleted.status_code == 303
    assert "Meine Geprüften" not in client.get("/inbox").get_data(as_text=True)


def test_counts_follow_the_form_filter(app: Flask, db: Database) -> None:
    other_workflow = copy.deepcopy(WORKFLOW)
    other_workflow.update(id="intake", initial="new", transitions=[
        {"id": "close", "from": "new", "to": "closed", "roles": ["coordinator"]}])
    other_workflow["states"] = [{"id": "new", "label": "Neu"},
                                {"id": "closed", "label": "Erledigt", "final": True}]
    other_workflow["notifications"] = []
    other_workflow["templates"] = {}
    import_definition(db, other_workflow, "workflow")
    publish_workflow(db, "intake")
    import_definition(db, form(id="other", reference_prefix="O", workflow="intake"), "form")
    publish_form(db, "other")
    submit(db, "grant", answers(), "de")
    submit(db, "other", answers(), "de")
    submit(db, "other", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    everything = client.get("/inbox").get_data(as_text=True)
    assert _count(everything, "submitted") == 1 and _count(everything, "new") == 2
    only_other = client.get("/inbox?form=other").get_data(as_text=True)
    assert _count(only_other, "new") == 2
    assert _count(only_other, "submitted") is None  # another workflow's state: no tab
    only_grant = client.get("/inbox?form=grant").get_data(as_text=True)
    assert _count(only_grant, "submitted") == 1 and _count(only_grant, "new") is None


def _due_workflow(db: Database) -> None:
    workflow = copy.deepcopy(WORKFLOW)
    workflow["states"][0]["due_days"] = 2
    import_definition(db, workflow, "workflow")
    publish_workflow(db, "triage")


def test_overdue_marker_counts_calendar_days(app: Flask, db: Database) -> None:
    _due_workflow(db)
    zone = ZoneInfo("Europe/Berlin")
    # entered "submitted" at 23:30 Berlin time on 1 March: on 4 March that is three calendar
    # days, one past the two allowed, however few hours it really is
    entered = datetime(2026, 3, 1, 23, 30, tzinfo=zone).astimezone(UTC)
    bulk_insert_submissions(db, 1, start=entered)
    with db.read() as store:
        workflow_row = store.definitions.published("workflow", "triage")
    assert workflow_row is not None
    rows = [s for s in _all(db) if s.workflow_version_row == workflow_row.row_id]
    _forms, workflows = pinned_definitions(db, rows)
    ages = state_ages(db, rows, workflows, date(2026, 3, 4), zone)
    assert (ages[rows[0].id].days, ages[rows[0].id].overdue_days) == (3, 1)
    ages = state_ages(db, rows, workflows, date(2026, 3, 3), zone)
    assert (ages[rows[0].id].days, ages[rows[0].id].overdue_days) == (2, None)
    # the page: a submission five days in "submitted" is three days overdue
    bulk_insert_submissions(db, 1, start=datetime.now(UTC) - timedelta(days=5))
    page = Staff(app).client(COORDINATOR).get("/inbox").get_data(as_text=True)
    assert "überfällig seit 3 Tagen" in page
    # a final state has no age to show
    bulk_insert_submissions(db, 1, states=("accepted",),
                            start=datetime.now(UTC) - timedelta(days=9))
    page = Staff(app).client(COORDINATOR).get("/inbox?state=accepted").get_data(as_text=True)
    row = page[page.index("<tbody>"):page.index("</tbody>")]
    assert "Angenommen" in row and "seit" not in row


def test_due_days_is_checked(db: Database) -> None:
    import pytest

    from engine.exceptions import DefinitionError
    workflow = copy.deepcopy(WORKFLOW)
    workflow["states"][2]["due_days"] = 3  # a final state
    with pytest.raises(DefinitionError, match="final state"):
        import_definition(db, workflow, "workflow")
    workflow = copy.deepcopy(WORKFLOW)
    workflow["states"][0]["due_days"] = 0
    with pytest.raises(DefinitionError):
        import_definition(db, workflow, "workflow")


def _all(db: Database) -> list:  # type: ignore[type-arg]
    from engine.services.inbox import InboxFilter, inbox_page
    return inbox_page(db, InboxFilter(), limit=200, with_counts=False).submissions
