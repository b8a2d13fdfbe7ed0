"""Drafts: partial answers an applicant can resume with a token until they expire."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, bindparam, delete, select

from engine.storage.prepared import Prepared
from engine.storage.records import DraftRecord
from engine.storage.tables import DefinitionRow, DefinitionVersionRow, DraftRow
from engine.storage.unit import Repository

if TYPE_CHECKING:
    from engine.storage.database import Database

__all__ = ["DraftRepository", "draft_by_token_hash"]

_DRAFTS = (
    select(
        *DraftRow.__table__.columns,
        DefinitionVersionRow.version.label("form_version"),
        DefinitionRow.published_version.label("published_version"),
    )
    .join(DefinitionVersionRow, DefinitionVersionRow.id == DraftRow.form_version_id)
    .outerjoin(
        DefinitionRow,
        and_(DefinitionRow.kind == "form", DefinitionRow.definition_id == DraftRow.form_id),
    )
)
"""A draft with its version's number and, in the same read, which version of its form is
published now: a page showing a draft needs both, and one statement is cheaper than two."""
_DRAFT_BY_TOKEN_HASH = Prepared(_DRAFTS.where(DraftRow.token_hash == bindparam("token_hash")))
_DRAFT_BY_ID = Prepared(_DRAFTS.where(DraftRow.id == bindparam("draft_id")))
_DELETE_BY_TOKEN_HASH = Prepared(
    delete(DraftRow).where(DraftRow.token_hash == bindparam("token_hash"))
)
_DRAFT_COLUMNS = tuple(column.key for column in _DRAFTS.selected_columns)


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
        # Prepared (``engine.storage.prepared``): this runs on every page a draft is shown on.
        return self._first(_DRAFT_BY_TOKEN_HASH, {"token_hash": token_hash})

    def get(self, draft_id: str) -> DraftRecord | None:
        return self._first(_DRAFT_BY_ID, {"draft_id": draft_id})

    def _first(self, statement: Prepared, params: dict[str, str]) -> DraftRecord | None:
        rows = statement.rows(self._link, params)
        return _record(rows[0]) if rows else None

    def delete(self, token_hash: str) -> bool:
        """Remove the draft with this token; False when there is none. Prepared: it runs in
        the submission's driver transaction when the submission completes a draft."""
        cursor = _DELETE_BY_TOKEN_HASH.execute(self._link, {"token_hash": token_hash})
        try:
            return int(cursor.rowcount) > 0
        finally:
            cursor.close()

    def delete_expired(self, now: datetime) -> int:
        """Remove drafts whose time is up; returns how many went."""
        result = self._session.execute(delete(DraftRow).where(DraftRow.expires_at <= now))
        return int(getattr(result, "rowcount", 0))


def draft_by_token_hash(db: Database, token_hash: str) -> DraftRecord | None:
    """:meth:`DraftRepository.by_token_hash` as a read of its own: one statement outside any
    transaction (``Database.read_rows``) — what every page showing a draft needs first."""
    rows = db.read_rows(_DRAFT_BY_TOKEN_HASH, {"token_hash": token_hash})
    return _record(rows[0]) if rows else None


def _record(row: tuple[Any, ...]) -> DraftRecord:
    found = dict(zip(_DRAFT_COLUMNS, row, strict=True))
    return DraftRecord(
        id=found["id"],
        form_id=found["form_id"],
        form_version=found["form_version"],
        form_version_row=found["form_version_id"],
        answers=dict(found["answers"]),
        step=found["step"],
        language=found["language"],
        created_at=found["created_at"],
        updated_at=found["updated_at"],
        expires_at=found["expires_at"],
        published_version=found["published_version"],
    )
