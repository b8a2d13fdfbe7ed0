"""Storing form and workflow definitions as immutable, numbered versions."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.orm import Session

from engine.storage.dialects import insert_ignoring_conflict
from engine.storage.prepared import Prepared
from engine.storage.records import DefinitionKind, DefinitionVersionRecord
from engine.storage.tables import DefinitionRow, DefinitionVersionRow
from engine.storage.unit import Repository

__all__ = ["DefinitionRepository"]

_VersionSelect = Select[DefinitionVersionRow, int | None]
_PUBLISHED_NUMBERS: dict[int, Prepared] = {}
_PUBLISHED_MEMO = object()
"""The key of a transaction's published version numbers in its ``Unit.memo``."""
"""The freshness check per number of ids (1 or 2 in practice), each built and compiled once:
fixed parameters, no per-call expansion of an ``IN`` list."""


def _published_numbers(count: int) -> Prepared:
    found = _PUBLISHED_NUMBERS.get(count)
    if found is None:
        found = _PUBLISHED_NUMBERS[count] = Prepared(
            select(
                DefinitionRow.kind, DefinitionRow.definition_id, DefinitionRow.published_version
            ).where(DefinitionRow.definition_id.in_([bindparam(f"id{i}") for i in range(count)]))
        )
    return found


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

    def published_version_numbers(
        self, wanted: Iterable[tuple[DefinitionKind, str]]
    ) -> dict[tuple[DefinitionKind, str], int]:
        """The published version number of each wanted (kind, id) that has one, in ONE small
        statement on the definitions' head rows: the freshness check of a cached published
        version (``engine.services.loading``), cheap enough to run on every request."""
        pairs = frozenset(wanted)
        if not pairs:
            return {}
        memo = self._unit.memo
        remembered = cast(
            "dict[frozenset[tuple[DefinitionKind, str]], dict[tuple[DefinitionKind, str], int]]",
            memo.setdefault(_PUBLISHED_MEMO, {}),
        )
        if pairs in remembered:
            return dict(remembered[pairs])
        ids = sorted({definition_id for _, definition_id in pairs})
        rows = _published_numbers(len(ids)).execute(
            self._link, {f"id{i}": value for i, value in enumerate(ids)}
        ).fetchall()
        found: dict[tuple[DefinitionKind, str], int] = {}
        for kind, definition_id, number in rows:
            key = (cast(DefinitionKind, kind), str(definition_id))
            if number is not None and key in pairs:
                found[key] = int(number)
        remembered[pairs] = found
        return dict(found)

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
        self._lock(kind, definition_id)
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
        head = self._lock(kind, definition_id)
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

    def _lock(self, kind: DefinitionKind, definition_id: str) -> DefinitionRow:
        """The head row, locked for a change (every change of a definition starts here)."""
        self._unit.memo.pop(_PUBLISHED_MEMO, None)
        return self._locked_head(kind, definition_id)

    def _locked_head(self, kind: DefinitionKind, definition_id: str) -> DefinitionRow:
        """The definition's head row, created if missing and locked for this transaction."""
        self._session.execute(
            insert_ignoring_conflict(
                self._session,
                DefinitionRow,
                {
                    "kind": kind,
                    "definition_id": definition_id,
                    "published_version": None,
                    "created_at": self._now,
                    "updated_at": self._now,
                },
            )
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
