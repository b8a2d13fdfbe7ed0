"""A form's statistics on both databases: weekly counts (ISO weeks, empty weeks kept), counts
per state, the median time to a final state; the page with its SVG charts and tables."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask

from engine.services import Database, fire_transition, submit
from engine.services.statistics import form_statistics
from support.coordinator import ADMIN, COORDINATOR, TREASURER, Staff, answers
from support.postgres import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS

class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clocked(database_url: str, db: Database) -> Iterator[tuple[Database, Clock]]:
    """A second handle on the app's (migrated) database whose clock the test sets."""
    clock = Clock()
    handle = Database(database_url, clock=clock)
    yield handle, clock
    handle.dispose()


def _submit_at(handle: Database, clock: Clock, at: datetime) -> str:
    clock.now = at
    return submit(handle, "grant", answers(), "de").id


def _fire_at(handle: Database, clock: Clock, submission_id: str, transition: str,
             at: datetime, comment: str = "") -> None:
    clock.now = at
    fire_transition(handle, submission_id, transition, actor=COORDINATOR,
                    roles=["coordinator"], comment=comment)


def _known_data(handle: Database, clock: Clock) -> None:
    """Six submissions over ISO weeks 2026-W02, W03 (none) and W04; three reach a final state
    after 1 day, 3 days and 10 days (median 3 days); one more is only reviewed."""
    monday_w02 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # 2026-W02
    a = _submit_at(handle, clock, monday_w02)
    b = _submit_at(handle, clock, monday_w02 + timedelta(days=6, hours=14))  # Sun 23:00, W02
    c = _submit_at(handle, clock, monday_w02 + timedelta(days=2))
    monday_w04 = datetime(2026, 1, 19, 0, 0, tzinfo=UTC)  # 2026-W04
    d = _submit_at(handle, clock, monday_w04)
    _submit_at(handle, clock, monday_w04 + timedelta(hours=5))
    _submit_at(handle, clock, monday_w04 + timedelta(days=1))
    _fire_at(handle, clock, a, "review", monday_w02 + timedelta(hours=2))
    _fire_at(handle, clock, a, "accept", monday_w02 + timedelta(days=1))  # 1 day
    _fire_at(handle, clock, b, "reject", monday_w02 + timedelta(days=9, hours=14),
             comment="Leider nein.")  # 3 days
    _fire_at(handle, clock, c, "reject", monday_w02 + timedelta(days=12),
             comment="Zu spät.")  # 10 days
    _fire_at(handle, clock, d, "review", monday_w04 + timedelta(days=2))


def test_weekly_and_state_counts_and_the_median(
    clocked: tuple[Database, Clock],
) -> None:
    handle, clock = clocked
    _known_data(handle, clock)
    stats = form_statistics(handle, "grant")
    assert stats.total == 6
    assert [(w.label, w.count) for w in stats.weeks] == [
        ("2026-W02", 3), ("2026-W03", 0), ("2026-W04", 3)]
    assert stats.weeks[0].monday == date(2026, 1, 5)
    assert stats.states == {"accepted": 1, "rejected": 2, "reviewed": 1, "submitted": 2}
    assert stats.final_states == {"accepted", "rejected"}
    assert stats.finished == 3
    assert stats.median_to_final == timedelta(days=3)


def test_weeks_begin_on_monday_midnight_of_the_zone_asked_for(
    clocked: tuple[Database, Clock],
) -> None:
    handle, clock = clocked
    _known_data(handle, clock)
    stats = form_statistics(handle, "grant", ZoneInfo("Europe/Berlin"))
    assert [(w.label, w.count) for w in stats.weeks] == [
        ("2026-W02", 2), ("2026-W03", 1), ("2026-W04", 3)]


def test_an_even_number_of_finished_submissions_averages_the_middle_two(
    clocked: tuple[Database, Clock],
) -> None:
    handle, clock = clocked
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    for hours in (1, 3, 5, 100):
        sid = _submit_at(handle, clock, start)
        _fire_at(handle, clock, sid, "reject", start + timedelta(hours=hours), comment="Nein.")
    stats = form_statistics(handle, "grant")
    assert stats.finished == 4
    assert stats.median_to_final == timedelta(hours=4)


def test_a_form_without_submissions_has_empty_statistics(db: Database) -> None:
    stats = form_statistics(db, "grant")
    assert (stats.total, stats.weeks, stats.states, stats.median_to_final) == (0, [], {}, None)


def test_the_page_shows_charts_and_tables(
    app: Flask, staff: Staff, clocked: tuple[Database, Clock],
) -> None:
    handle, clock = clocked
    _known_data(handle, clock)
    page = staff.client(COORDINATOR).get("/inbox/statistics?form=grant&lang=de")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert html.count("<svg") == 2
    # weeks in FORMFLOW_TIMEZONE (Berlin): Sunday 23:00 UTC is already Monday of W03 there
    assert '<th scope="row">2026-W03</th><td>1</td>' in html
    assert '<th scope="row">Abgelehnt</th><td>2</td>' in html
    assert "3 Tage" in html
    for start, end in ((html.index("<svg"), html.index("</svg>") + 6),):
        ET.fromstring(html[start:end])


def test_roles_on_the_statistics_page(app: Flask, staff: Staff) -> None:
    assert staff.client(ADMIN).get("/inbox/statistics").status_code == 200
    assert staff.client(TREASURER).get("/inbox/statistics").status_code == 403
    assert staff.client().get("/inbox/statistics").status_code in (302, 401)
    assert staff.client(COORDINATOR).get("/inbox/statistics?form=nope").status_code == 404


def test_the_inbox_links_to_the_statistics(app: Flask, staff: Staff) -> None:
    html = staff.client(COORDINATOR).get("/inbox").get_data(as_text=True)
    assert 'id="statistics-link" href="/inbox/statistics"' in html
