"""The inbox: filters, counts per state, newest first, keyset pages, assignment and "mine"."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask

from engine.exceptions import InvalidInput, StaleState
from engine.services import (
    Database,
    fire_transition,
    get_user,
    history,
    import_definition,
    publish_form,
    submit,
)
from engine.services.inbox import (
    InboxFilter,
    Position,
    assign_submission,
    decode_position,
    encode_position,
    inbox_page,
)
from support.coordinator import (
    COORDINATOR,
    OTHER_COORDINATOR,
    Staff,
    answers,
    bulk_insert_submissions,
    form,
    post_form,
)
from web.coordinator.presenting import display_timezone

ROW = re.compile(r'<tr data-id="([0-9a-f]{32})">')


def _ids(page: str) -> list[str]:
    return ROW.findall(page)


def _count(page: str, state: str) -> int:
    found = re.search(rf'<span class="count" data-state="{state}">(\d+)</span>', page)
    assert found, f"no count for {state!r}"
    return int(found.group(1))


def _next_link(page: str) -> str | None:
    found = re.search(r'<a rel="next" href="([^"]+)"', page)
    return found.group(1).replace("&amp;", "&") if found else None


def _prev_link(page: str) -> str | None:
    found = re.search(r'<a rel="prev" href="([^"]+)"', page)
    return found.group(1).replace("&amp;", "&") if found else None


def test_inbox_lists_newest_first_with_labels(app: Flask, db: Database) -> None:
    first = submit(db, "grant", answers(name="Erste Person"), "de")
    second = submit(db, "grant", answers(name="Zweite Person"), "de")
    page = Staff(app).client(COORDINATOR).get("/inbox").get_data(as_text=True)
    assert _ids(page) == [second.id, first.id]
    assert "Zweite Person" in page and first.reference in page
    assert "Förderantrag" in page  # the form's title, in German by default
    assert "<th scope=\"col\">" in page  # a table with header cells


def test_keyset_pages_walk_every_row_once_without_offset(app: Flask, db: Database) -> None:
    bulk_insert_submissions(db, 125)
    # two at the very same instant: the id breaks the tie, nothing is lost between pages
    bulk_insert_submissions(db, 2, start=datetime(2026, 1, 1, 0, 1, tzinfo=UTC))
    client = Staff(app).client(COORDINATOR)
    seen: list[str] = []
    url: str | None = "/inbox"
    pages = 0
    while url:
        assert "offset" not in url
        page = client.get(url).get_data(as_text=True)
        seen += _ids(page)
        url = _next_link(page)
        pages += 1
    assert pages == 3  # 50 + 50 + 27
    assert len(seen) == len(set(seen)) == 127
    with db.read() as store:
        created = {s.id: (s.created_at, s.id) for s in store.submissions.list(limit=1000)}
    assert [created[i] for i in seen] == sorted(created.values(), reverse=True)


def test_previous_page_link_goes_back(app: Flask, db: Database) -> None:
    bulk_insert_submissions(db, 120)
    client = Staff(app).client(COORDINATOR)
    first = client.get("/inbox").get_data(as_text=True)
    assert _prev_link(first) is None
    second_url = _next_link(first)
    assert second_url
    second = client.get(second_url).get_data(as_text=True)
    third = client.get(_next_link(second) or "").get_data(as_text=True)
    assert _next_link(third) is None
    back = client.get(_prev_link(third) or "").get_data(as_text=True)
    assert _ids(back) == _ids(second)
    back_again = client.get(_prev_link(back) or "").get_data(as_text=True)
    assert _ids(back_again) == _ids(first)


def test_a_new_submission_does_not_shift_the_next_page(app: Flask, db: Database) -> None:
    bulk_insert_submissions(db, 60)
    client = Staff(app).client(COORDINATOR)
    first = client.get("/inbox").get_data(as_text=True)
    next_url = _next_link(first)
    before = client.get(next_url or "").get_data(as_text=True)
    submit(db, "grant", answers(), "de")  # arrives while the coordinator reads page 1
    after = client.get(next_url or "").get_data(as_text=True)
    assert _ids(after) == _ids(before)


@pytest.fixture
def stopped_clock_db(app: Flask, moment: datetime) -> Iterator[Database]:
    """A second Database on the app's file whose clock stands still at ``moment``."""
    database = Database(app.config["DATABASE_URL"], clock=lambda: moment)
    yield database
    database.dispose()


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 1, 15, 9, 30, tzinfo=UTC),
        datetime(2026, 1, 15, 23, 30, tzinfo=UTC),  # already January 16 in Berlin (CET)
        datetime(2026, 7, 15, 22, 30, tzinfo=UTC),  # already July 16 in Berlin (CEST)
    ],
    ids=["morning", "winter-late-evening", "summer-late-evening"],
)
def test_filters_state_form_dates_text_and_counts(app: Flask, stopped_clock_db: Database
                                                  ) -> None:
    # The submissions are stored at ``moment``; the inbox filters by days in the app's time
    # zone, so "today" is taken there too: at 23:30 UTC it is already tomorrow in Berlin.
    db = stopped_clock_db
    import_definition(db, form(id="other", reference_prefix="O",
                               title={"de": "Anderes", "en": "Other"}), "form")
    publish_form(db, "other")
    a = submit(db, "grant", answers(name="Grete Müller", summary="Chorprobe"), "de")
    b = submit(db, "grant", answers(name="Hans Meier"), "de")
    c = submit(db, "other", answers(name="Olga Otto"), "de")
    fire_transition(db, b.id, "review", actor=COORDINATOR, roles=["coordinator"])
    client = Staff(app).client(COORDINATOR)

    page = client.get("/inbox").get_data(as_text=True)
    assert _count(page, "submitted") == 2 and _count(page, "reviewed") == 1
    assert _count(page, "accepted") == 0

    page = client.get("/inbox?state=reviewed").get_data(as_text=True)
    assert _ids(page) == [b.id]
    assert _count(page, "submitted") == 2  # the counts ignore the state filter itself

    page = client.get("/inbox?form=other").get_data(as_text=True)
    assert _ids(page) == [c.id]
    assert _count(page, "submitted") == 1 and _count(page, "reviewed") == 0

    assert _ids(client.get("/inbox?q=m%C3%BCller").get_data(as_text=True)) == [a.id]
    assert _ids(client.get("/inbox?q=CHORPROBE").get_data(as_text=True)) == [a.id]
    assert _ids(client.get(f"/inbox?q={c.reference.lower()}").get_data(as_text=True)) == [c.id]
    assert _ids(client.get("/inbox?q=100%25").get_data(as_text=True)) == []  # % is literal

    with app.app_context():
        zone = display_timezone()
    today = db.now().astimezone(zone).date()
    page = client.get(f"/inbox?from={today}&to={today}").get_data(as_text=True)
    assert set(_ids(page)) == {a.id, b.id, c.id}
    tomorrow = today + timedelta(days=1)
    assert _ids(client.get(f"/inbox?from={tomorrow}").get_data(as_text=True)) == []
    yesterday = today - timedelta(days=1)
    assert _ids(client.get(f"/inbox?to={yesterday}").get_data(as_text=True)) == []


def test_counts_stop_at_the_cap_and_say_so(app: Flask, db: Database) -> None:
    bulk_insert_submissions(db, 30, states=("submitted", "submitted", "reviewed"))
    app.config["INBOX_COUNT_CAP"] = 15
    page = Staff(app).client(COORDINATOR).get("/inbox").get_data(as_text=True)
    assert '<span class="count" data-state="submitted">15+</span>' in page
    assert '<span class="count" data-state="reviewed">10</span>' in page
    assert '<span class="count" data-state="">25+</span>' in page
    text = inbox_page(db, InboxFilter(text="person"), count_cap=12)
    assert text.capped == {"submitted", "reviewed"}  # one shared scan: all are "at least"
    assert sum(inbox_page(db, InboxFilter(text="person 2")).counts.values()) == 11


def test_date_range_is_inclusive_of_whole_days(db: Database) -> None:
    bulk_insert_submissions(db, 3, start=datetime(2026, 3, 14, 22, 59, 59, tzinfo=UTC))
    berlin_day_start = datetime(2026, 3, 15, 0, 0, tzinfo=UTC) - timedelta(hours=1)
    page = inbox_page(db, InboxFilter(created_from=berlin_day_start,
                                      created_before=berlin_day_start + timedelta(days=1)))
    assert len(page.submissions) == 2  # 23:00:00 and 23:00:01 UTC are March 15 in Berlin


def test_bad_filter_values_are_reported_not_fatal(app: Flask, db: Database) -> None:
    submit(db, "grant", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    response = client.get("/inbox?from=14.03.2026&before=garbage")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert len(_ids(page)) == 1


def test_assignment_and_the_mine_filter(app: Flask, db: Database) -> None:
    mine = submit(db, "grant", answers(), "de")
    theirs = submit(db, "grant", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    response = post_form(client, f"/inbox/{mine.id}", f"/inbox/{mine.id}/assign",
                         {"assignee": "me", "expected_assignee": ""})
    assert response.status_code == 303
    other = get_user(db, OTHER_COORDINATOR)
    response = post_form(client, f"/inbox/{theirs.id}", f"/inbox/{theirs.id}/assign",
                         {"assignee": str(other.id), "expected_assignee": ""})
    assert response.status_code == 303
    page = client.get("/inbox?mine=1").get_data(as_text=True)
    assert _ids(page) == [mine.id]
    assert OTHER_COORDINATOR in client.get("/inbox").get_data(as_text=True)
    trail = [(e.kind, e.actor, e.comment) for e in history(db, theirs.id)][1:]
    assert trail == [("assignment", COORDINATOR, OTHER_COORDINATOR)]  # in the audit trail
    timeline = client.get(f"/inbox/{theirs.id}").get_data(as_text=True)
    assert f"Zugewiesen an {OTHER_COORDINATOR}" in timeline
    english = client.get(f"/inbox/{theirs.id}?lang=en").get_data(as_text=True)
    assert f"Assigned to {OTHER_COORDINATOR}" in english

    assign_submission(db, theirs.id, None, actor=COORDINATOR)
    assert history(db, theirs.id)[-1].comment is None
    assert "Assignment removed" in client.get(f"/inbox/{theirs.id}").get_data(as_text=True)


def test_assignment_refuses_unknown_people_and_stale_views(app: Flask, db: Database) -> None:
    created = submit(db, "grant", answers(), "de")
    me = get_user(db, COORDINATOR)
    with pytest.raises(InvalidInput):
        assign_submission(db, created.id, 9999, actor=COORDINATOR)
    assign_submission(db, created.id, me.id, actor=COORDINATOR)
    client = Staff(app).client(OTHER_COORDINATOR)
    page_url = f"/inbox/{created.id}"
    # the other coordinator's page still showed "nobody": their assignment is refused
    response = post_form(client, page_url, f"{page_url}/assign",
                         {"assignee": "me", "expected_assignee": ""})
    assert response.status_code == 409
    with pytest.raises(StaleState):
        assign_submission(db, created.id, None, actor=OTHER_COORDINATOR,
                          expected_assignee=None, check_expected=True)


def test_cursor_round_trip_and_garbage() -> None:
    position = Position(datetime(2026, 3, 14, 9, 30, 1, 5, tzinfo=UTC), "a" * 32)
    assert decode_position(encode_position(position)) == position
    for garbage in ("", "abc", "!!!", encode_position(position)[:-3] + "A"):
        with pytest.raises(InvalidInput):
            decode_position(garbage)
