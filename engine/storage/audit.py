"""The audit log of administrative actions: rows are inserted, listed and, once older than
the retention of the log, deleted — never changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select

from engine.records import AuditRecord
from engine.storage.repository import Repository
from engine.storage.tables import AuditRow

__all__ = ["AuditRepository"]


class AuditRepository(Repository):
    def add(self, *, actor: str, action: str, object_ref: str,
            detail: str | None = None) -> AuditRecord:
        row = AuditRow(at=self._now, actor=actor, action=action, object_ref=object_ref,
                       detail=detail)
        self._session.add(row)
        self._session.flush()
        return _record(row)

    def page(
        self, *, action: str | None = None, actor: str | None = None,
        since: datetime | None = None, before: datetime | None = None,
        limit: int | None = 100, offset: int = 0,
    ) -> list[AuditRecord]:
        """Newest first, narrowed by action, actor (exact) and time."""
        query = select(AuditRow).where(*_where(action, actor, since, before))
        query = query.order_by(AuditRow.at.desc(), AuditRow.id.desc()).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        return [_record(row) for row in self._session.scalars(query)]

    def iterate(
        self, *, action: str | None = None, actor: str | None = None,
        since: datetime | None = None, before: datetime | None = None,
    ) -> Iterator[AuditRecord]:
        """As :meth:`page` without a limit, read in batches (the CSV export)."""
        query = select(AuditRow).where(*_where(action, actor, since, before))
        query = query.order_by(AuditRow.at.desc(), AuditRow.id.desc())
        for row in self._session.scalars(query.execution_options(yield_per=500)):
            yield _record(row)

    def count(
        self, *, action: str | None = None, actor: str | None = None,
        since: datetime | None = None, before: datetime | None = None,
    ) -> int:
        query = select(func.count()).select_from(AuditRow).where(
            *_where(action, actor, since, before))
        return int(self._session.execute(query).scalar_one())

    def actions(self) -> list[str]:
        """The actions recorded so far (the filter's choices)."""
        return sorted(self._session.scalars(select(AuditRow.action).distinct()))

    def delete_before(self, cutoff: datetime) -> int:
        """Delete entries older than ``cutoff`` (the log's retention); how many went."""
        result = self._session.execute(
            delete(AuditRow).where(AuditRow.at < cutoff)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))


def _where(
    action: str | None, actor: str | None, since: datetime | None, before: datetime | None,
) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if action:
        conditions.append(AuditRow.action == action)
    if actor:
        conditions.append(AuditRow.actor == actor)
    if since is not None:
        conditions.append(AuditRow.at >= since)
    if before is not None:
        conditions.append(AuditRow.at < before)
    return conditions


def _record(row: AuditRow) -> AuditRecord:
    return AuditRecord(id=row.id, at=row.at, actor=row.actor, action=row.action,
                       object_ref=row.object_ref, detail=row.detail)
