"""The coordinators' queries: filtered, keyset-paginated lists, counts per state, export pages.

Every list is newest first, ordered by ``(created_at, id)`` — both descending, ``id`` breaking
ties between submissions of the same instant — and paginated by KEYSET: the next page is
"rows before this (created_at, id)", never ``OFFSET``, so page 2,000 costs what page 1 costs
and a submission arriving meanwhile cannot shift rows between pages. Migration 0002 adds the
indexes these orderings walk (``(created_at, id)``, ``(state, created_at, id)``,
``(assigned_to, created_at, id)`` — since 0007 of assigned submissions only, as every query
here asks for one assignee).

Free text looks at the reference and at the answers' JSON text. JSON is stored with non-ASCII
characters escaped (``"M\\u00fcller"``), so the term is matched both as typed and in its
escaped spelling; case-insensitivity is full for ASCII and as far as the database's ``lower``
goes beyond it (SQLite: ASCII only).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    String,
    cast,
    false,
    func,
    literal,
    or_,
    select,
    true,
    tuple_,
)

from engine.records import ExportRow, InboxFilter, Position, SubmissionRecord
from engine.storage.repository import Repository
from engine.storage.submissions import select_submissions, submission_record
from engine.storage.tables import DefinitionVersionRow, EventRow, SubmissionRow, UTCDateTime
from engine.text import readable

__all__ = ["InboxRepository"]

LIKE_ESCAPE = "!"


class InboxRepository(Repository):
    def page(
        self,
        where: InboxFilter,
        *,
        before: Position | None = None,
        after: Position | None = None,
        limit: int = 50,
    ) -> list[SubmissionRecord]:
        """Up to ``limit`` submissions, newest first.

        ``before``: the ones older than that position (the next page); ``after``: the ones
        newer than it (the previous page, still returned newest first). Ask for one more than
        you show to learn whether another page exists.
        """
        key = tuple_(SubmissionRow.created_at, SubmissionRow.id)
        query = select_submissions().where(*_conditions(where))
        if after is not None:
            query = query.where(key > tuple_(_bind_time(after.created_at), after.id))
            query = query.order_by(SubmissionRow.created_at.asc(), SubmissionRow.id.asc())
        else:
            if before is not None:
                query = query.where(key < tuple_(_bind_time(before.created_at), before.id))
            query = query.order_by(SubmissionRow.created_at.desc(), SubmissionRow.id.desc())
        records = [submission_record(row) for row in self._session.execute(query.limit(limit))]
        if after is not None:
            records.reverse()
        return records

    def count_by_state(
        self, where: InboxFilter, states: Sequence[str], cap: int
    ) -> dict[str, int]:
        """How many submissions match ``where`` in each of ``states`` (its ``state`` ignored),
        counting at most ``cap + 1`` per state.

        Bounded on purpose: an exact count of a million rows costs a scan of a million index
        entries on every page view, while "more than 10,000" tells a coordinator the same.
        Each state's count is its own ``LIMIT``-ed subquery walking the ``(state, …)`` or
        ``(form_id, state)`` index, all in one statement. With a free-text filter (which
        cannot use an index) one bounded scan is shared instead: the states' counts then add
        up to at most ``cap + 1``.
        """
        conditions = _conditions(_without_state(where))
        if where.text:
            matching = select(SubmissionRow.state).where(*conditions).limit(cap + 1).subquery()
            query = select(matching.c.state, func.count()).group_by(matching.c.state)
            return {str(state): int(n) for state, n in self._session.execute(query)}
        if not states:
            return {}
        columns = [
            select(func.count())
            .select_from(
                # the state column, not the id: it is in the index, so no table row is read
                select(SubmissionRow.state)
                .where(SubmissionRow.state == state, *conditions)
                .limit(cap + 1)
                .subquery()
            )
            .scalar_subquery()
            for state in states
        ]
        row = self._session.execute(select(*columns)).one()
        return {state: int(n) for state, n in zip(states, row, strict=True)}

    def state_entered(self, submissions: Sequence[SubmissionRecord]) -> dict[str, datetime]:
        """When each submission entered its current state: its last transition, else its
        creation (one grouped query over the events' submission index)."""
        entered = {s.id: s.created_at for s in submissions}
        if not entered:
            return entered
        query = (
            select(EventRow.submission_id, func.max(EventRow.at))
            .where(EventRow.submission_id.in_(list(entered)), EventRow.kind == "transition")
            .group_by(EventRow.submission_id)
        )
        for submission_id, at in self._session.execute(query):
            if at is not None:
                entered[str(submission_id)] = at
        return entered

    def workflow_version_rows(self) -> list[int]:
        """Row ids of every stored workflow version (for the set of states that can occur)."""
        query = (
            select(DefinitionVersionRow.id)
            .where(DefinitionVersionRow.kind == "workflow")
            .order_by(DefinitionVersionRow.id)
        )
        return [int(row_id) for row_id in self._session.scalars(query)]

    def form_versions(self, where: InboxFilter) -> list[int]:
        """Row ids of the form versions the matching submissions were made with, oldest first.

        Goes through the small definition_versions table (one EXISTS per version) instead of
        a DISTINCT over every matching submission.
        """
        matching = (
            select(SubmissionRow.id)
            .where(SubmissionRow.form_version_id == DefinitionVersionRow.id, *_conditions(where))
            .exists()
        )
        query = (
            select(DefinitionVersionRow.id)
            .where(DefinitionVersionRow.kind == "form", matching)
            .order_by(DefinitionVersionRow.definition_id, DefinitionVersionRow.version)
        )
        return [int(row_id) for row_id in self._session.scalars(query)]

    def export_page(
        self, where: InboxFilter, *, before: Position | None = None, limit: int = 1000
    ) -> list[ExportRow]:
        """Like :meth:`page` for the export: plain columns only, fast to build in bulk."""
        query = (
            select(
                SubmissionRow.id,
                SubmissionRow.reference,
                SubmissionRow.form_id,
                DefinitionVersionRow.version,
                SubmissionRow.form_version_id,
                SubmissionRow.state,
                SubmissionRow.created_at,
                SubmissionRow.answers,
                SubmissionRow.consents,
            )
            .join(DefinitionVersionRow, DefinitionVersionRow.id == SubmissionRow.form_version_id)
            .where(*_conditions(where))
        )
        if before is not None:
            key = tuple_(SubmissionRow.created_at, SubmissionRow.id)
            query = query.where(key < tuple_(_bind_time(before.created_at), before.id))
        query = query.order_by(SubmissionRow.created_at.desc(), SubmissionRow.id.desc())
        return [
            ExportRow(
                id=row[0],
                reference=row[1],
                form_id=row[2],
                form_version=int(row[3]),
                form_version_row=int(row[4]),
                state=row[5],
                created_at=row[6],
                answers=readable(row[7] or {}),
                consents=tuple(row[8] or ()),
            )
            for row in self._session.execute(query.limit(limit))
        ]


def _bind_time(value: datetime) -> ColumnElement[datetime]:
    """A datetime bound through the column's own type (UTC handling on every backend): inside
    a tuple comparison SQLAlchemy would otherwise bind it untyped."""
    return literal(value, UTCDateTime())


def _without_state(where: InboxFilter) -> InboxFilter:
    return InboxFilter(
        form_id=where.form_id,
        created_from=where.created_from,
        created_before=where.created_before,
        text=where.text,
        assigned_to=where.assigned_to,
    )


def _conditions(where: InboxFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.form_id is not None:
        conditions.append(SubmissionRow.form_id == where.form_id)
    if where.state is not None:
        conditions.append(SubmissionRow.state == where.state)
    if where.created_from is not None:
        conditions.append(SubmissionRow.created_at >= where.created_from)
    if where.created_before is not None:
        conditions.append(SubmissionRow.created_at < where.created_before)
    if where.assigned_to is not None:
        conditions.append(SubmissionRow.assigned_to == where.assigned_to)
    if where.text:
        conditions.append(_text_matches(where.text))
    return conditions


def _text_matches(text: str) -> ColumnElement[bool]:
    term = text.strip().lower()
    if not term:
        return true()
    answers_text = func.lower(cast(SubmissionRow.answers, String))
    clauses = [func.lower(SubmissionRow.reference).like(_pattern(term), escape=LIKE_ESCAPE)]
    for spelling in _spellings(term):
        clauses.append(answers_text.like(_pattern(spelling), escape=LIKE_ESCAPE))
    return or_(*clauses) if clauses else false()


def _spellings(term: str) -> Iterable[str]:
    """The term as typed and as it appears inside JSON text (quotes, non-ASCII escaped)."""
    escaped = json.dumps(term, ensure_ascii=True)[1:-1].lower()
    return dict.fromkeys([term, escaped])


def _pattern(term: str) -> str:
    escaped = (
        term.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", f"{LIKE_ESCAPE}%")
        .replace("_", f"{LIKE_ESCAPE}_")
    )
    return f"%{escaped}%"

