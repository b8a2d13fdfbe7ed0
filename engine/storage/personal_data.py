"""Finding and erasing an applicant's personal data (``engine.services.personal_data``).

Erasure overwrites in place, it never deletes the submission: the row stays as a tombstone
(reference, form and workflow versions, state, dates, the token's hash so the status link
still opens, the consent records) with its answers emptied and ``erased_at`` set. The events
keep kind, states, actor and time but lose their texts; the outbox rows keep what was sent
when but lose the applicant's address and the error texts (an SMTP error quotes the
recipient), and those not sent yet are cancelled.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from datetime import datetime
from typing import cast

from sqlalchemy import delete, func, select, update

from engine.records import DraftRecord, SubmissionRecord
from engine.storage.drafts import draft_record
from engine.storage.repository import Repository
from engine.storage.submissions import select_submissions, submission_record
from engine.storage.tables import (
    DefinitionVersionRow,
    DraftRow,
    EventRow,
    OutboxRow,
    SubmissionRow,
)

__all__ = ["PersonalDataRepository"]

_BATCH = 500
_TEXT_EVENTS = ("created", "transition", "comment")
"""Events whose texts may be about the applicant; ``assignment`` holds a staff address and
``workflow_move`` a version number, neither the applicant's."""


class PersonalDataRepository(Repository):
    def live_submissions(self) -> Iterator[SubmissionRecord]:
        """Every submission not erased yet, oldest first, read in batches."""
        query = (
            select_submissions()
            .where(SubmissionRow.erased_at.is_(None))
            .order_by(SubmissionRow.created_at, SubmissionRow.id)
            .execution_options(yield_per=_BATCH)
        )
        for row in self._session.execute(query):
            yield submission_record(row)

    def drafts(self) -> Iterator[DraftRecord]:
        """Every draft, oldest first, read in batches."""
        query = (
            select(DraftRow, DefinitionVersionRow.version)
            .join(DefinitionVersionRow, DefinitionVersionRow.id == DraftRow.form_version_id)
            .order_by(DraftRow.created_at, DraftRow.id)
            .execution_options(yield_per=_BATCH, populate_existing=True)
        )
        for row in self._session.execute(query):
            yield draft_record(row)

    def in_final_states(
        self, workflow_version_row: int, states: Collection[str]
    ) -> list[tuple[SubmissionRecord, datetime]]:
        """The live submissions of one workflow version in one of ``states``, each with the
        time it last entered its state (its newest event leading there)."""
        if not states:
            return []
        entered = (
            select(EventRow.submission_id, func.max(EventRow.at).label("entered"))
            .join(SubmissionRow, SubmissionRow.id == EventRow.submission_id)
            .where(EventRow.to_state == SubmissionRow.state,
                   EventRow.kind.in_(["created", "transition"]))
            .group_by(EventRow.submission_id)
            .subquery()
        )
        query = (
            select_submissions()
            .add_columns(entered.c.entered)
            .join(entered, entered.c.submission_id == SubmissionRow.id)
            .where(
                SubmissionRow.workflow_version_id == workflow_version_row,
                SubmissionRow.state.in_(sorted(states)),
                SubmissionRow.erased_at.is_(None),
            )
            .order_by(SubmissionRow.created_at, SubmissionRow.id)
        )
        found = []
        for row in self._session.execute(query):
            record = submission_record(row[:4])  # type: ignore[arg-type]
            found.append((record, cast(datetime, row[4])))
        return found

    def workflow_versions_in_use(self) -> list[int]:
        """The stored workflow versions live submissions are on."""
        rows = self._session.scalars(
            select(SubmissionRow.workflow_version_id)
            .where(SubmissionRow.erased_at.is_(None))
            .distinct()
        )
        return sorted(rows)

    def erase_submission(self, submission_id: str) -> bool:
        """Make the submission a tombstone (see the module docstring); False when it is
        missing or erased already."""
        result = self._session.execute(
            update(SubmissionRow)
            .where(SubmissionRow.id == submission_id, SubmissionRow.erased_at.is_(None))
            .values(answers={}, erased_at=self._now, version=SubmissionRow.version + 1,
                    updated_at=self._now)
            .execution_options(synchronize_session=False)
        )
        if int(getattr(result, "rowcount", 0)) != 1:
            return False
        self._session.execute(
            update(EventRow)
            .where(EventRow.submission_id == submission_id, EventRow.kind.in_(_TEXT_EVENTS))
            .values(comment=None, note=None)
            .execution_options(synchronize_session=False)
        )
        return True

    def cancel_notifications(self, submission_id: str) -> int:
        """Cancel the submission's notifications not sent yet; how many."""
        result = self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.submission_id == submission_id,
                   OutboxRow.status.in_(["pending", "enqueued"]))
            .values(status="cancelled")
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

    def scrub_notifications(self, submission_id: str) -> None:
        """Forget the applicant's address and every error text of the submission's rows."""
        self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.submission_id == submission_id)
            .values(last_error=None)
            .execution_options(synchronize_session=False)
        )
        self._session.execute(
            update(OutboxRow)
            .where(OutboxRow.submission_id == submission_id, OutboxRow.role == "applicant")
            .values(recipient=None)
            .execution_options(synchronize_session=False)
        )

    def delete_drafts(self, draft_ids: Collection[str]) -> int:
        """Delete these drafts (their resume-link rows go with them); how many went."""
        if not draft_ids:
            return 0
        result = self._session.execute(
            delete(DraftRow)
            .where(DraftRow.id.in_(sorted(draft_ids)))
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

    def expired_drafts(self, now: datetime) -> list[tuple[str, str]]:
        """(id, form id) of every draft whose time is up."""
        rows = self._session.execute(
            select(DraftRow.id, DraftRow.form_id).where(DraftRow.expires_at <= now)
        )
        return [(row.id, row.form_id) for row in rows]
