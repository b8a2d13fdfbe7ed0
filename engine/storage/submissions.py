"""Submissions, their human references and their append-only event trail."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import UTC
from typing import Any, cast

from sqlalchemy import Row, Select, func, select, update
from sqlalchemy.orm import aliased

from engine.records import EventKind, EventRecord, SubmissionRecord
from engine.storage.dialects import upsert
from engine.storage.repository import Repository
from engine.storage.tables import (
    DefinitionVersionRow,
    EventRow,
    ReferenceCounterRow,
    SubmissionRow,
)
from engine.text import readable

__all__ = ["EventRepository", "SubmissionRepository"]

_SubmissionSelect = Select[SubmissionRow, int, str, int]
_FormVersion = aliased(DefinitionVersionRow, name="form_version")
_WorkflowVersion = aliased(DefinitionVersionRow, name="workflow_version")


class SubmissionRepository(Repository):
    def next_reference_number(self, prefix: str, year: int) -> int:
        """The next number for ``prefix-year``: unique, taken in the caller's transaction.

        One upsert: the first use of a (prefix, year) creates the row with 1; concurrent
        transactions queue on the row lock, so no two ever get the same number.
        """
        statement = (
            upsert(self._session, ReferenceCounterRow)
            .values(prefix=prefix, year=year, last_number=1)
            .on_conflict_do_update(
                index_elements=[ReferenceCounterRow.prefix, ReferenceCounterRow.year],
                set_={"last_number": ReferenceCounterRow.last_number + 1},
            )
            .returning(ReferenceCounterRow.last_number)
        )
        return int(self._session.execute(statement).scalar_one())

    def add(
        self,
        *,
        submission_id: str,
        reference: str,
        form_id: str,
        form_version_row: int,
        form_version: int,
        workflow_version_row: int,
        workflow_id: str,
        workflow_version: int,
        state: str,
        token_hash: str,
        answers: Mapping[str, Any],
        language: str,
        consents: Sequence[Mapping[str, Any]] = (),
    ) -> SubmissionRecord:
        """Insert a new submission (version 1, unassigned) and return it as stored."""
        row = SubmissionRow(
            id=submission_id,
            reference=reference,
            form_id=form_id,
            form_version_id=form_version_row,
            workflow_version_id=workflow_version_row,
            state=state,
            version=1,
            token_hash=token_hash,
            answers=dict(answers),
            language=language,
            created_at=self._now,
            updated_at=self._now,
            assigned_to=None,
            consents=[dict(c) for c in consents],
        )
        self._session.add(row)
        self._session.flush()
        now = self._now.astimezone(UTC)  # as the column hands it back
        return SubmissionRecord(
            id=submission_id,
            reference=reference,
            form_id=form_id,
            form_version=form_version,
            form_version_row=form_version_row,
            workflow_id=workflow_id,
            workflow_version=workflow_version,
            workflow_version_row=workflow_version_row,
            state=state,
            version=1,
            answers=dict(row.answers),
            language=language,
            created_at=now,
            updated_at=now,
            assigned_to=None,
            consents=tuple(dict(c) for c in consents),
        )

    def get(self, submission_id: str) -> SubmissionRecord | None:
        return self._first(select_submissions().where(SubmissionRow.id == submission_id))

    def by_token_hash(self, token_hash: str) -> SubmissionRecord | None:
        return self._first(select_submissions().where(SubmissionRow.token_hash == token_hash))

    def by_reference(self, reference: str) -> SubmissionRecord | None:
        return self._first(select_submissions().where(SubmissionRow.reference == reference))

    def list(
        self,
        *,
        form_id: str | None = None,
        state: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[SubmissionRecord]:
        """Newest first, optionally narrowed to one form and/or one state."""
        query = select_submissions()
        if form_id is not None:
            query = query.where(SubmissionRow.form_id == form_id)
        if state is not None:
            query = query.where(SubmissionRow.state == state)
        query = query.order_by(SubmissionRow.created_at.desc(), SubmissionRow.id)
        query = query.limit(limit).offset(offset)
        return [submission_record(row) for row in self._session.execute(query)]

    def count(self, *, form_id: str | None = None, state: str | None = None) -> int:
        query = select(func.count()).select_from(SubmissionRow)
        if form_id is not None:
            query = query.where(SubmissionRow.form_id == form_id)
        if state is not None:
            query = query.where(SubmissionRow.state == state)
        return int(self._session.execute(query).scalar_one())

    def state_counts(self, form_id: str) -> Sequence[tuple[int, str, int]]:
        """(workflow version row, state, number) of the form's submissions: what is final or a
        waiting list depends on the workflow version each is on."""
        query = (
            select(SubmissionRow.workflow_version_id, SubmissionRow.state, func.count())
            .where(SubmissionRow.form_id == form_id)
            .group_by(SubmissionRow.workflow_version_id, SubmissionRow.state)
        )
        return [(int(row), str(state), int(n)) for row, state, n in self._session.execute(query)]

    def change_state(self, submission_id: str, expected_version: int, new_state: str) -> bool:
        """``UPDATE … WHERE id = ? AND version = ?``: False when someone else changed it first.

        On PostgreSQL a concurrent updater waits for the first one's row lock and then sees
        the new version, so exactly one of them matches; on SQLite writers are serialised.
        """
        result = self._session.execute(
            update(SubmissionRow)
            .where(SubmissionRow.id == submission_id, SubmissionRow.version == expected_version)
            .values(state=new_state, version=expected_version + 1, updated_at=self._now)
            .execution_options(synchronize_session=False)
        )
        return cast(int, getattr(result, "rowcount", 0)) == 1

    def references(self, submission_ids: Sequence[str]) -> dict[str, str]:
        """Submission id → human reference, for the ids that exist (one query)."""
        if not submission_ids:
            return {}
        rows = self._session.execute(
            select(SubmissionRow.id, SubmissionRow.reference).where(
                SubmissionRow.id.in_(submission_ids)
            )
        )
        return {row.id: row.reference for row in rows}

    def assign(self, submission_id: str, expected_version: int, user_id: int | None) -> bool:
        """Set the assigned coordinator, under the same optimistic check as a state change."""
        result = self._session.execute(
            update(SubmissionRow)
            .where(SubmissionRow.id == submission_id, SubmissionRow.version == expected_version)
            .values(assigned_to=user_id, version=expected_version + 1, updated_at=self._now)
            .execution_options(synchronize_session=False)
        )
        return cast(int, getattr(result, "rowcount", 0)) == 1

    def on_workflow_version(
        self, workflow_version_row: int, states: Collection[str]
    ) -> Sequence[SubmissionRecord]:
        """The submissions on one stored workflow version in one of ``states``, oldest first."""
        if not states:
            return []
        query = (
            select_submissions()
            .where(
                SubmissionRow.workflow_version_id == workflow_version_row,
                SubmissionRow.state.in_(sorted(states)),
            )
            .order_by(SubmissionRow.created_at, SubmissionRow.id)
        )
        return [submission_record(row) for row in self._session.execute(query)]

    def move_workflow(
        self, submission_id: str, expected_version: int, workflow_version_row: int
    ) -> bool:
        """Put the submission on another workflow version, under the optimistic check."""
        result = self._session.execute(
            update(SubmissionRow)
            .where(SubmissionRow.id == submission_id, SubmissionRow.version == expected_version)
            .values(
                workflow_version_id=workflow_version_row,
                version=expected_version + 1,
                updated_at=self._now,
            )
            .execution_options(synchronize_session=False)
        )
        return cast(int, getattr(result, "rowcount", 0)) == 1

    def _first(self, query: _SubmissionSelect) -> SubmissionRecord | None:
        row = self._session.execute(query).first()
        return submission_record(row) if row is not None else None


class EventRepository(Repository):
    """Append-only: there is deliberately no way to change or delete an event here."""

    def add(
        self,
        *,
        submission_id: str,
        kind: EventKind,
        actor: str,
        transition: str | None = None,
        from_state: str | None = None,
        to_state: str | None = None,
        comment: str | None = None,
        note: str | None = None,
    ) -> EventRecord:
        row = EventRow(
            submission_id=submission_id,
            kind=kind,
            transition=transition,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            comment=comment,
            note=note,
            at=self._now,
        )
        self._session.add(row)
        self._session.flush()
        return EventRecord(
            id=row.id,
            submission_id=submission_id,
            kind=kind,
            transition=transition,
            from_state=from_state,
            to_state=to_state,
            actor=actor,
            comment=comment,
            note=note,
            at=self._now,
        )

    def for_submission(self, submission_id: str) -> list[EventRecord]:
        """Oldest first, in the order they were written."""
        rows = self._session.scalars(
            select(EventRow).where(EventRow.submission_id == submission_id).order_by(EventRow.id)
        )
        return [_event(row) for row in rows]


def select_submissions() -> _SubmissionSelect:
    return (
        select(
            SubmissionRow,
            _FormVersion.version,
            _WorkflowVersion.definition_id,
            _WorkflowVersion.version,
        )
        .join(_FormVersion, _FormVersion.id == SubmissionRow.form_version_id)
        .join(_WorkflowVersion, _WorkflowVersion.id == SubmissionRow.workflow_version_id)
        # Core UPDATEs (optimistic concurrency) bypass the identity map: always re-read.
        .execution_options(populate_existing=True)
    )


def submission_record(row: Row[SubmissionRow, int, str, int]) -> SubmissionRecord:
    submission, form_version, workflow_id, workflow_version = row[0], row[1], row[2], row[3]
    return SubmissionRecord(
        id=submission.id,
        reference=submission.reference,
        form_id=submission.form_id,
        form_version=form_version,
        form_version_row=submission.form_version_id,
        workflow_id=workflow_id,
        workflow_version=workflow_version,
        workflow_version_row=submission.workflow_version_id,
        state=submission.state,
        version=submission.version,
        answers=readable(dict(submission.answers)),
        language=submission.language,
        created_at=submission.created_at,
        updated_at=submission.updated_at,
        assigned_to=submission.assigned_to,
        consents=tuple(submission.consents or ()),
        erased_at=submission.erased_at,
    )


def _event(row: EventRow) -> EventRecord:
    return EventRecord(
        id=row.id,
        submission_id=row.submission_id,
        kind=cast(EventKind, row.kind),
        transition=row.transition,
        from_state=row.from_state,
        to_state=row.to_state,
        actor=row.actor,
        comment=readable(row.comment),
        note=readable(row.note),
        at=row.at,
    )
