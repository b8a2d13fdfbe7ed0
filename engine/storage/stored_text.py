"""Text columns read and written as stored, for ``formflow data check``: no ``readable()``.

Every other repository hands out stored text through :func:`engine.text.readable`, so a row
written before such text was refused still shows. This one reads the raw values — to find
those rows — and writes the repaired ones back, one row at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select, update

from engine.storage.repository import Repository
from engine.storage.tables import DraftRow, EventRow, OutboxRow, SubmissionRow

__all__ = ["OUTBOX_TEXT_COLUMNS", "StoredTextRepository"]

OUTBOX_TEXT_COLUMNS = ("recipient", "role", "url", "secret_env", "template", "last_error")
"""The outbox's columns of text; what a notification says is rendered when it is sent."""

_BATCH = 500
"""Rows fetched at a time while scanning a table."""


class StoredTextRepository(Repository):
    def submission_answers(self) -> Iterator[tuple[str, str, Any]]:
        """(id, reference, answers) of every submission, in id order."""
        rows = self._session.execute(
            select(SubmissionRow.id, SubmissionRow.reference, SubmissionRow.answers)
            .order_by(SubmissionRow.id)
            .execution_options(yield_per=_BATCH)
        )
        for row in rows:
            yield row[0], row[1], row[2]

    def draft_answers(self) -> Iterator[tuple[str, Any]]:
        """(id, answers) of every draft, in id order."""
        rows = self._session.execute(
            select(DraftRow.id, DraftRow.answers)
            .order_by(DraftRow.id)
            .execution_options(yield_per=_BATCH)
        )
        for row in rows:
            yield row[0], row[1]

    def event_comments(self) -> Iterator[tuple[int, str, str]]:
        """(event id, submission reference, comment) of every event with a comment."""
        rows = self._session.execute(
            select(EventRow.id, SubmissionRow.reference, EventRow.comment)
            .join(SubmissionRow, SubmissionRow.id == EventRow.submission_id)
            .where(EventRow.comment.is_not(None))
            .order_by(EventRow.id)
            .execution_options(yield_per=_BATCH)
        )
        for row in rows:
            yield row[0], row[1], row[2] or ""

    def outbox_texts(self) -> Iterator[tuple[int, dict[str, str | None]]]:
        """(outbox id, {column: text}) of every outbox row."""
        columns = [getattr(OutboxRow, name) for name in OUTBOX_TEXT_COLUMNS]
        rows = self._session.execute(
            select(OutboxRow.id, *columns)
            .order_by(OutboxRow.id)
            .execution_options(yield_per=_BATCH)
        )
        for row in rows:
            yield row[0], dict(zip(OUTBOX_TEXT_COLUMNS, row[1:], strict=True))

    def submission_answers_of(self, submission_id: str) -> Any:
        return self._session.scalar(
            select(SubmissionRow.answers).where(SubmissionRow.id == submission_id)
        )

    def draft_answers_of(self, draft_id: str) -> Any:
        return self._session.scalar(select(DraftRow.answers).where(DraftRow.id == draft_id))

    def event_comment_of(self, event_id: int) -> str | None:
        return self._session.scalar(select(EventRow.comment).where(EventRow.id == event_id))

    def outbox_texts_of(self, outbox_id: int) -> dict[str, str | None] | None:
        columns = [getattr(OutboxRow, name) for name in OUTBOX_TEXT_COLUMNS]
        row = self._session.execute(select(*columns).where(OutboxRow.id == outbox_id)).first()
        return None if row is None else dict(zip(OUTBOX_TEXT_COLUMNS, row, strict=True))

    def set_submission_answers(self, submission_id: str, answers: Any) -> None:
        self._session.execute(
            update(SubmissionRow).where(SubmissionRow.id == submission_id)
            .values(answers=answers)
        )

    def set_draft_answers(self, draft_id: str, answers: Any) -> None:
        self._session.execute(
            update(DraftRow).where(DraftRow.id == draft_id).values(answers=answers)
        )

    def set_event_comment(self, event_id: int, comment: str) -> None:
        """The one change an event ever gets: its comment made readable (the trail is
        otherwise append-only)."""
        self._session.execute(
            update(EventRow).where(EventRow.id == event_id).values(comment=comment)
        )

    def set_outbox_texts(self, outbox_id: int, values: dict[str, str | None]) -> None:
        self._session.execute(
            update(OutboxRow).where(OutboxRow.id == outbox_id).values(**values)
        )
