"""A form's statistics for the coordinators: submissions per ISO week and per state, and the
median time from submission to a final state.

The counting happens in SQL (``engine.storage.statistics``): per UTC hour, per state, and the
median duration. This module folds the hours into ISO weeks of the display time zone (every
week from the first to the last one with a submission, empty weeks included, so a chart shows
gaps as gaps) and reads which states are final from the workflow versions the form's
submissions are pinned to.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING

from engine.services.loading import workflow_of

if TYPE_CHECKING:
    from engine.storage import Database

__all__ = ["FormStatistics", "IsoWeek", "form_statistics", "iso_weeks", "local_days"]


@dataclass(frozen=True, slots=True)
class IsoWeek:
    year: int
    week: int
    monday: date
    count: int

    @property
    def label(self) -> str:
        """``2026-W05``: the ISO 8601 week notation."""
        return f"{self.year}-W{self.week:02d}"


@dataclass(frozen=True, slots=True)
class FormStatistics:
    form_id: str
    total: int
    weeks: list[IsoWeek]
    """Every ISO week (in the zone asked for) from the first submission's to the last one's,
    oldest first."""
    states: dict[str, int]
    """Submissions per current state (states without submissions left out)."""
    final_states: frozenset[str]
    median_to_final: timedelta | None
    """Median time from submission to first reaching a final state; None when none has."""
    finished: int
    """How many submissions the median is taken over."""


def form_statistics(db: Database, form_id: str, zone: tzinfo = UTC) -> FormStatistics:
    """The statistics of ``form_id`` (all zero for a form without submissions); weeks begin
    on Monday, midnight, in ``zone``."""
    with db.read() as store:
        hours = store.statistics.per_hour(form_id)
        states = store.statistics.per_state(form_id)
        rows = store.statistics.workflow_versions(form_id)
        records = store.definitions.by_row_ids(rows)
    final = frozenset(
        state.id
        for row in rows
        for state in workflow_of(db, records[row]).states
        if state.final
    )
    with db.read() as store:
        seconds, finished = store.statistics.median_seconds_to_final(form_id, final)
    return FormStatistics(
        form_id=form_id,
        total=sum(states.values()),
        weeks=iso_weeks(local_days(hours, zone)),
        states=states,
        final_states=final,
        median_to_final=None if seconds is None else timedelta(seconds=round(seconds)),
        finished=finished,
    )


def local_days(hours: list[tuple[datetime, int]], zone: tzinfo) -> list[tuple[date, int]]:
    """Counts per UTC hour as counts per calendar day in ``zone``."""
    days: dict[date, int] = {}
    for start, n in hours:
        day = start.astimezone(zone).date()
        days[day] = days.get(day, 0) + n
    return sorted(days.items())


def iso_weeks(days: list[tuple[date, int]]) -> list[IsoWeek]:
    """Counts per day folded into ISO weeks, every week between the first and last included."""
    if not days:
        return []
    counts: dict[date, int] = {}
    for day, n in days:
        monday = day - timedelta(days=day.weekday())
        counts[monday] = counts.get(monday, 0) + n
    weeks = []
    monday, last = min(counts), max(counts)
    while monday <= last:
        year, week, _weekday = monday.isocalendar()
        weeks.append(IsoWeek(year, week, monday, counts.get(monday, 0)))
        monday += timedelta(days=7)
    return weeks
