"""Drafts: partial answers an applicant can resume with a token until they expire."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, select

from engine.records import DraftRecord
from engine.storage.repository import Repository
from engine.storage.tables import DefinitionVersionRow, DraftRow
from engine.text import readable

__all__ = ["DraftRepository", "draft_record"]


class DraftRepository(Repository):
    def add(
        self,
        *,
        draft_id: str,
        token_hash: str,
        form_id: str,
        form_version_row: int,
        answers: Mapping[str, Any],
        step: str | None,
        language: str,
        expires_at: datetime,
    ) -> DraftRecord:
        self._session.add(
            DraftRow(
                id=draft_id,
                token_hash=token_hash,
                form_id=form_id,
                form_version_id=form_version_row,
                answers=dict(answers),
                step=step,
                language=language,
                created_at=self._now,
                updated_at=self._now,
                expires_at=expires_at,
            )
        )
        self._session.flush()
        added = self.by_token_hash(token_hash)
        assert added is not None
        return added

    def update(
        self,
        token_hash: str,
        *,
        form_version_row: int,
        answers: Mapping[str, Any],
        step: str | None,
        language: str,
        expires_at: datetime,
    ) -> DraftRecord | None:
        row = self._session.scalars(
            select(DraftRow).where(DraftRow.token_hash == token_hash).with_for_update()
        ).first()
        if row is None:
            return None
        row.form_version_id = form_version_row
        row.answers = dict(answers)
        row.step = step
        row.language = language
        row.updated_at = self._now
        row.expires_at = expires_at
        self._session.flush()
        return self.by_token_hash(token_hash)

    def by_token_hash(self, token_hash: str) -> DraftRecord | None:
        return self._first(DraftRow.token_hash == token_hash)

    def get(self, draft_id: str) -> DraftRecord | None:
        return self._first(DraftRow.id == draft_id)

    def _first(self, condition: ColumnElement[bool]) -> DraftRecord | None:
        row = self._session.execute(
            select(DraftRow, DefinitionVersionRow.version)
            .join(DefinitionVersionRow, DefinitionVersionRow.id == DraftRow.form_version_id)
            .where(condition)
            .execution_options(populate_existing=True)
        ).first()
        return draft_record(row) if row is not None else None

    def delete(self, token_hash: str) -> bool:
        """Remove the draft with this token; False when there is none."""
        result = self._session.execute(
            delete(DraftRow)
            .where(DraftRow.token_hash == token_hash)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0)) > 0

    def delete_expired(self, now: datetime) -> int:
        """Remove drafts whose time is up; returns how many went."""
        result = self._session.execute(delete(DraftRow).where(DraftRow.expires_at <= now))
        return int(getattr(result, "rowcount", 0))


def draft_record(row: Row[DraftRow, int]) -> DraftRecord:
    draft, form_version = row[0], row[1]
    return DraftRecord(
        id=draft.id,
        form_id=draft.form_id,
        form_version=form_version,
        form_version_row=draft.form_version_id,
        answers=readable(dict(draft.answers)),
        step=draft.step,
        language=draft.language,
        created_at=draft.created_at,
        updated_at=draft.updated_at,
        expires_at=draft.expires_at,
    )
