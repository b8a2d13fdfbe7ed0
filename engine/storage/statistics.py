"""The queries behind a form's statistics page: submissions per day and per state, and the
time from submission to a final state.

Submissions are counted per UTC hour (SQLite knows no named time zones); the service turns
the hours into days of the display time zone — exact for zones whose offset is whole hours,
such as Europe/Berlin — and folds them into ISO weeks. The
duration to a final state is the time between a submission's ``created_at`` and its FIRST
transition into one of the given final states, in seconds; the median is taken in SQL by
ordering those durations and reading the middle one or two rows (no ``percentile_cont``,
which SQLite lacks). The expressions that differ between the backends (a UTC day, seconds
between two timestamps) are picked by dialect name, as ``dialects.upsert`` does.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, Float, SQLColumnExpression, cast, func, select

from engine.storage.repository import Repository
from engine.storage.tables import EventRow, SubmissionRow

__all__ = ["StatisticsRepository"]


class StatisticsRepository(Repository):
    def per_hour(self, form_id: str) -> list[tuple[datetime, int]]:
        """(start of a UTC hour, submissions made in it) of one form, oldest first; hours
        without submissions left out."""
        hour = self._utc_hour(SubmissionRow.created_at).label("hour")
        query = (
            select(hour, func.count())
            .where(SubmissionRow.form_id == form_id)
            .group_by(hour)
            .order_by(hour)
        )
        return [(_as_hour(value), int(n)) for value, n in self._session.execute(query)]

    def per_state(self, form_id: str) -> dict[str, int]:
        """How many of the form's submissions are in each state now (states with none left out)."""
        query = (
            select(SubmissionRow.state, func.count())
            .where(SubmissionRow.form_id == form_id)
            .group_by(SubmissionRow.state)
        )
        return {str(state): int(n) for state, n in self._session.execute(query)}

    def workflow_versions(self, form_id: str) -> list[int]:
        """Row ids of the workflow versions the form's submissions are pinned to."""
        query = (
            select(SubmissionRow.workflow_version_id)
            .where(SubmissionRow.form_id == form_id)
            .distinct()
            .order_by(SubmissionRow.workflow_version_id)
        )
        return [int(row_id) for row_id in self._session.scalars(query)]

    def median_seconds_to_final(
        self, form_id: str, final_states: Collection[str]
    ) -> tuple[float | None, int]:
        """(median seconds from submission to first reaching a final state, how many did).

        ``(None, 0)`` when no submission of the form has reached one of ``final_states``.
        """
        if not final_states:
            return None, 0
        reached = (
            select(
                EventRow.submission_id.label("submission_id"),
                func.min(EventRow.at).label("reached_at"),
            )
            .where(EventRow.kind == "transition", EventRow.to_state.in_(sorted(final_states)))
            .group_by(EventRow.submission_id)
            .subquery()
        )
        seconds = self._seconds_between(SubmissionRow.created_at, reached.c.reached_at)
        durations = (
            select(seconds.label("seconds"))
            .join(reached, reached.c.submission_id == SubmissionRow.id)
            .where(SubmissionRow.form_id == form_id)
        )
        total = int(
            self._session.scalar(select(func.count()).select_from(durations.subquery())) or 0
        )
        if total == 0:
            return None, 0
        ordered = durations.subquery()
        middle = (
            select(ordered.c.seconds)
            .order_by(ordered.c.seconds)
            .offset((total - 1) // 2)
            .limit(1 if total % 2 else 2)
        )
        values = [float(v) for v in self._session.scalars(middle)]
        return sum(values) / len(values), total

    def _dialect(self) -> str:
        return self._session.get_bind().dialect.name

    def _utc_hour(self, column: SQLColumnExpression[datetime]) -> ColumnElement[object]:
        """``YYYY-MM-DD HH`` of the UTC time on both backends."""
        if self._dialect() == "postgresql":
            # timestamptz → the UTC wall clock, whatever the session's TimeZone
            return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD HH24")
        return func.strftime("%Y-%m-%d %H", column)  # SQLite stores UTC text

    def _seconds_between(
        self, start: SQLColumnExpression[datetime], end: SQLColumnExpression[datetime]
    ) -> ColumnElement[float]:
        if self._dialect() == "postgresql":
            return cast(func.extract("epoch", end - start), Float)
        return (func.julianday(end) - func.julianday(start)) * 86400.0


def _as_hour(value: object) -> datetime:
    return datetime.strptime(str(value), "%Y-%m-%d %H").replace(tzinfo=UTC)
