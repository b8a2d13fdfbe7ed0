"""Storing form and workflow definitions as immutable, numbered versions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from sqlalchemy import Row, Select, select
from sqlalchemy.orm import Session

from engine.records import DefinitionKind, DefinitionVersionRecord
from engine.storage.dialects import upsert
from engine.storage.repository import Repository
from engine.storage.tables import DefinitionRow, DefinitionVersionRow

__all__ = ["DefinitionRepository"]

_VersionSelect = Select[DefinitionVersionRow, int | None]


class DefinitionRepository(Repository):
    def latest(self, kind: DefinitionKind, definition_id: str) -> DefinitionVersionRecord | None:
        """The newest version (published or not)."""
        query = (
            _select_versions()
            .where(
                DefinitionVersionRow.kind == kind,
                DefinitionVersionRow.definition_id == definition_id,
            )
            .order_by(DefinitionVersionRow.version.desc())
            .limit(1)
        )
        return _first(self._session, query)

    def get(
        self, kind: DefinitionKind, definition_id: str, version: int
    ) -> DefinitionVersionRecord | None:
        query = _select_versions().where(
            DefinitionVersionRow.kind == kind,
            DefinitionVersionRow.definition_id == definition_id,
            DefinitionVersionRow.version == version,
        )
        return _first(self._session, query)

    def by_row_id(self, row_id: int) -> DefinitionVersionRecord | None:
        """The version a submission or draft is pinned to (they keep the row id)."""
        return _first(self._session, _select_versions().where(DefinitionVersionRow.id == row_id))

    def by_row_ids(self, row_ids: Iterable[int]) -> dict[int, DefinitionVersionRecord]:
        """The versions with these row ids (e.g. those a page of submissions is pinned to)."""
        query = _select_versions().where(DefinitionVersionRow.id.in_(set(row_ids)))
        return {record.row_id: record for record in map(_record, self._session.execute(query))}

    def published(
        self, kind: DefinitionKind, definition_id: str
    ) -> DefinitionVersionRecord | None:
        """The version currently published, or None when none is."""
        query = _select_versions().where(
            DefinitionVersionRow.kind == kind,
            DefinitionVersionRow.definition_id == definition_id,
            DefinitionVersionRow.version == DefinitionRow.published_version,
        )
        return _first(self._session, query)

    def all_published(self, kind: DefinitionKind) -> list[DefinitionVersionRecord]:
        """The current published version of every definition of this kind, by id."""
        query = (
            _select_versions()
            .where(
                DefinitionVersionRow.kind == kind,
                DefinitionVersionRow.version == DefinitionRow.published_version,
            )
            .order_by(DefinitionVersionRow.definition_id)
        )
        return [_record(row) for row in self._session.execute(query)]

    def versions(self, kind: DefinitionKind, definition_id: str) -> list[DefinitionVersionRecord]:
        query = (
            _select_versions()
            .where(
                DefinitionVersionRow.kind == kind,
                DefinitionVersionRow.definition_id == definition_id,
            )
            .order_by(DefinitionVersionRow.version)
        )
        return [_record(row) for row in self._session.execute(query)]

    def add_version(
        self, kind: DefinitionKind, definition_id: str, content: str, content_hash: str
    ) -> DefinitionVersionRecord:
        """Append the next version number; concurrent importers of one id queue on a row lock."""
        self._locked_head(kind, definition_id)
        latest = self.latest(kind, definition_id)
        row = DefinitionVersionRow(
            kind=kind,
            definition_id=definition_id,
            version=(latest.version + 1) if latest else 1,
            content=content,
            content_hash=content_hash,
            created_at=self._now,
            published_at=None,
        )
        self._session.add(row)
        self._session.flush()
        added = self.get(kind, definition_id, row.version)
        assert added is not None
        return added

    def publish(self, kind: DefinitionKind, definition_id: str, version: int) -> None:
        """Make ``version`` the published one (it must exist)."""
        head = self._locked_head(kind, definition_id)
        target = self._session.scalars(
            select(DefinitionVersionRow).where(
                DefinitionVersionRow.kind == kind,
                DefinitionVersionRow.definition_id == definition_id,
                DefinitionVersionRow.version == version,
            )
        ).one()
        if target.published_at is None:
            target.published_at = self._now
        head.published_version = version
        head.updated_at = self._now
        self._session.flush()

    def lock(self, kind: DefinitionKind, definition_id: str) -> None:
        """Hold the definition's head row until the transaction ends (``SELECT … FOR UPDATE``
        on PostgreSQL; SQLite's write transactions queue anyway): e.g. one submitter at a
        time counts a form's places and takes one."""
        self._session.scalars(
            select(DefinitionRow)
            .where(DefinitionRow.kind == kind, DefinitionRow.definition_id == definition_id)
            .with_for_update()
        ).first()

    def _locked_head(self, kind: DefinitionKind, definition_id: str) -> DefinitionRow:
        """The definition's head row, created if missing and locked for this transaction
        (every change of a definition starts here, so concurrent changes queue)."""
        self._session.execute(
            upsert(self._session, DefinitionRow)
            .values(
                kind=kind,
                definition_id=definition_id,
                published_version=None,
                created_at=self._now,
                updated_at=self._now,
            )
            .on_conflict_do_nothing()
        )
        return self._session.scalars(
            select(DefinitionRow)
            .where(DefinitionRow.kind == kind, DefinitionRow.definition_id == definition_id)
            .with_for_update()
        ).one()


def _select_versions() -> _VersionSelect:
    return select(DefinitionVersionRow, DefinitionRow.published_version).join(
        DefinitionRow,
        (DefinitionRow.kind == DefinitionVersionRow.kind)
        & (DefinitionRow.definition_id == DefinitionVersionRow.definition_id),
    )


def _first(session: Session, query: _VersionSelect) -> DefinitionVersionRecord | None:
    row = session.execute(query).first()
    return _record(row) if row is not None else None


def _record(row: Row[DefinitionVersionRow, int | None]) -> DefinitionVersionRecord:
    version_row, published_version = row[0], row[1]
    return DefinitionVersionRecord(
        row_id=version_row.id,
        kind=cast(DefinitionKind, version_row.kind),
        definition_id=version_row.definition_id,
        version=version_row.version,
        content=version_row.content,
        content_hash=version_row.content_hash,
        created_at=version_row.created_at,
        published_at=version_row.published_at,
        is_current_published=published_version == version_row.version,
    )
