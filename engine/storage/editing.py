"""What the administrators' editor keeps: one working draft per definition, and listings.

A definition's published versions are immutable; what an administrator is changing lives
beside them as a *working draft* (table ``editor_drafts``, migration 0003): the whole JSON of
the definition being edited, which version it started from, and a ``revision`` counter that
goes up with every save. Two administrators editing the same form therefore cannot overwrite
each other silently: a save names the revision it was based on and is refused (``None``)
when someone else saved in between. A draft may be incomplete or invalid — it is work in
progress; validation happens when it is published.

The listings read version metadata without loading every version's JSON, so the definitions
page stays cheap however many versions pile up.

Reached as ``store.editing`` inside a transaction, like the other repositories.
"""

from __future__ import annotations

from typing import cast

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from engine.records import DefinitionHead, DefinitionKind, EditorDraftRecord, VersionInfo
from engine.storage.repository import Repository
from engine.storage.tables import DefinitionRow, DefinitionVersionRow, EditorDraftRow

__all__ = ["EditingRepository"]


class EditingRepository(Repository):
    # -- drafts -----------------------------------------------------------------------------

    def draft(self, kind: DefinitionKind, definition_id: str) -> EditorDraftRecord | None:
        row = self._session.get(
            EditorDraftRow, (kind, definition_id), populate_existing=True
        )
        return _draft(row) if row is not None else None

    def drafts(self, kind: DefinitionKind) -> list[EditorDraftRecord]:
        rows = self._session.scalars(
            select(EditorDraftRow)
            .where(EditorDraftRow.kind == kind)
            .order_by(EditorDraftRow.definition_id)
        )
        return [_draft(row) for row in rows]

    def save_draft(
        self,
        kind: DefinitionKind,
        definition_id: str,
        *,
        content: str,
        base_version: int | None,
        updated_by: str | None,
        expected_revision: int | None,
    ) -> EditorDraftRecord | None:
        """Create or replace the draft; ``None`` when ``expected_revision`` is stale.

        ``expected_revision`` 0 means "there is no draft yet", ``None`` skips the check. The
        row is locked (``FOR UPDATE``; SQLite writers are serialised anyway), so of two
        concurrent saves based on the same revision exactly one wins.
        """
        row = self._session.scalars(
            select(EditorDraftRow)
            .where(EditorDraftRow.kind == kind, EditorDraftRow.definition_id == definition_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if row is None:
            if expected_revision not in (None, 0):
                return None
            row = EditorDraftRow(
                kind=kind, definition_id=definition_id, content=content,
                base_version=base_version, revision=1, created_at=self._now,
                updated_at=self._now, updated_by=updated_by,
            )
            try:
                with self._session.begin_nested():
                    self._session.add(row)
                    self._session.flush()
            except IntegrityError:  # created concurrently by someone else: their save won
                return None
            return _draft(row)
        if expected_revision is not None and row.revision != expected_revision:
            return None
        row.content = content
        row.base_version = base_version
        row.revision += 1
        row.updated_at = self._now
        row.updated_by = updated_by
        self._session.flush()
        return _draft(row)

    def delete_draft(
        self, kind: DefinitionKind, definition_id: str, revision: int | None = None
    ) -> bool:
        """Remove the draft (only at ``revision``, when given: a newer save survives)."""
        statement = delete(EditorDraftRow).where(
            EditorDraftRow.kind == kind, EditorDraftRow.definition_id == definition_id
        )
        if revision is not None:
            statement = statement.where(EditorDraftRow.revision == revision)
        result = self._session.execute(
            statement.execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0)) == 1

    # -- listings ---------------------------------------------------------------------------

    def heads(self, kind: DefinitionKind) -> list[DefinitionHead]:
        """Every stored definition of ``kind`` (published or not), by id."""
        query = (
            select(
                DefinitionRow.definition_id,
                DefinitionRow.published_version,
                DefinitionRow.updated_at,
                func.max(DefinitionVersionRow.version),
                func.count(DefinitionVersionRow.id),
            )
            .join(
                DefinitionVersionRow,
                (DefinitionVersionRow.kind == DefinitionRow.kind)
                & (DefinitionVersionRow.definition_id == DefinitionRow.definition_id),
            )
            .where(DefinitionRow.kind == kind)
            .group_by(
                DefinitionRow.definition_id,
                DefinitionRow.published_version,
                DefinitionRow.updated_at,
            )
            .order_by(DefinitionRow.definition_id)
        )
        return [
            DefinitionHead(kind, str(d_id), int(latest), published, int(count), updated_at)
            for d_id, published, updated_at, latest, count in self._session.execute(query)
        ]

    def versions(self, kind: DefinitionKind, definition_id: str) -> list[VersionInfo]:
        """The stored versions of one definition, oldest first, without their content."""
        query = (
            select(
                DefinitionVersionRow.version,
                DefinitionVersionRow.created_at,
                DefinitionVersionRow.published_at,
                DefinitionVersionRow.content_hash,
                DefinitionRow.published_version,
            )
            .join(
                DefinitionRow,
                (DefinitionRow.kind == DefinitionVersionRow.kind)
                & (DefinitionRow.definition_id == DefinitionVersionRow.definition_id),
            )
            .where(
                DefinitionVersionRow.kind == kind,
                DefinitionVersionRow.definition_id == definition_id,
            )
            .order_by(DefinitionVersionRow.version)
        )
        return [
            VersionInfo(version, created_at, published_at, published == version, digest)
            for version, created_at, published_at, digest, published
            in self._session.execute(query)
        ]


def _draft(row: EditorDraftRow) -> EditorDraftRecord:
    return EditorDraftRecord(
        kind=cast(DefinitionKind, row.kind),
        definition_id=row.definition_id,
        content=row.content,
        base_version=row.base_version,
        revision=row.revision,
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )
