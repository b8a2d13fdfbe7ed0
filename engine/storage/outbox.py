"""The notification outbox: rows written with their event, delivered later by workers."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Literal, cast

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engine.records import OutboxEntry, OutboxRecord, OutboxStatus
from engine.storage.repository import Repository
from engine.storage.tables import OutboxRow

__all__ = ["OutboxRepository"]

_Channel = Literal["mail", "webhook"]


class OutboxRepository(Repository):
    def __init__(self, session: Session, now: datetime) -> None:
        super().__init__(session, now)
        self.due: list[str] = []
        """Delivery ids of rows this transaction made due (added, or reset to ``pending``):
        the :class:`~engine.storage.Database` hands them to its post-commit hook."""

    def add_many(self, entries: Sequence[OutboxEntry]) -> list[OutboxRecord]:
        """Insert one pending row per entry and mark them due; records in the order given."""
        rows = [
            OutboxRow(
                submission_id=e.submission_id, event_id=e.event_id, draft_id=e.draft_id,
                channel=e.channel, recipient=e.recipient, role=e.role, url=e.url,
                secret_env=e.secret_env, template=e.template, language=e.language,
                status="pending", attempts=0, last_error=None, delivered_at=None,
                created_at=self._now, delivery_key=e.delivery_key,
                delivery_id=str(uuid.uuid4()),
            )
            for e in entries
        ]
        if not rows:
            return []
        self._session.add_all(rows)
        self._session.flush()
        self.due.extend(row.delivery_id for row in rows)
        return [_record(row) for row in rows]

    def get(self, outbox_id: int) -> OutboxRecord | None:
        row = self._session.get(OutboxRow, outbox_id, populate_existing=True)
        return _record(row) if row is not None else None

    def by_delivery_id(self, delivery_id: str) -> OutboxRecord | None:
        """The row a job names (jobs carry the delivery id, never the integer id)."""
        row = self._session.scalars(
            select(OutboxRow)
            .where(OutboxRow.delivery_id == delivery_id)
            .execution_options(populate_existing=True)
        ).first()
        return _record(row) if row is not None else None

    def has_delivery_key(self, delivery_key: str) -> bool:
        """Whether a draft's row (the resume-link mail) has this key already.

        Only draft rows are looked up by key, so only they are indexed by it alone (the
        partial unique index of migration 0008); a submission's keys are sha256 of its own
        event id and can equal no draft's key (``draft-link…`` hashed).
        """
        found = self._session.scalar(
            select(OutboxRow.id).where(
                OutboxRow.delivery_key == delivery_key, OutboxRow.draft_id.is_not(None)
            )
        )
        return found is not None

    def for_submission(self, submission_id: str) -> list[OutboxRecord]:
        rows = self._session.scalars(
            select(OutboxRow)
            .where(OutboxRow.submission_id == submission_id)
            .order_by(OutboxRow.id)
            .execution_options(populate_existing=True)
        )
        return [_record(row) for row in rows]

    def with_status(
        self,
        statuses: Iterable[OutboxStatus],
        *,
        created_before: datetime | None = None,
        limit: int = 100,
    ) -> list[OutboxRecord]:
        """Oldest first: what a relay should (re-)enqueue."""
        query = select(OutboxRow).where(OutboxRow.status.in_(list(statuses)))
        if created_before is not None:
            query = query.where(OutboxRow.created_at < created_before)
        query = query.order_by(OutboxRow.id).limit(limit)
        rows = self._session.scalars(query.execution_options(populate_existing=True))
        return [_record(row) for row in rows]

    def set_status(
        self,
        outbox_id: int,
        status: OutboxStatus,
        *,
        error: str | None = None,
        count_attempt: bool = False,
        only_from: Iterable[OutboxStatus] | None = None,
    ) -> bool:
        """Move one row to ``status``; False when it is missing or not in ``only_from``."""
        values: dict[str, object] = {"status": status}
        if error is not None:
            values["last_error"] = error
        if count_attempt:
            values["attempts"] = OutboxRow.attempts + 1
        if status == "sent":
            values["delivered_at"] = self._now
            values["last_error"] = None
        statement = update(OutboxRow).where(OutboxRow.id == outbox_id)
        if only_from is not None:
            statement = statement.where(OutboxRow.status.in_(list(only_from)))
        result = self._session.execute(
            statement.values(**values).execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0)) == 1

    def set_status_many(
        self, delivery_ids: Iterable[str], status: OutboxStatus, *,
        only_from: Iterable[OutboxStatus],
    ) -> int:
        """Move several rows, named by delivery id, at once (no attempt counted); how many
        were in ``only_from``."""
        ids = list(delivery_ids)
        if not ids:
            return 0
        statement = (
            update(OutboxRow)
            .where(OutboxRow.delivery_id.in_(ids), OutboxRow.status.in_(list(only_from)))
            .values(status=status)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(self._session.execute(statement), "rowcount", 0))

    def make_due_again(self, outbox_id: int) -> bool:
        """A ``failed`` (or stuck) row back to ``pending`` for another try; False when it is
        missing or already ``sent``. Its attempts and last error stay as the record of what
        happened; a successful delivery clears the error."""
        changed = self.set_status(
            outbox_id, "pending", only_from=["failed", "pending", "enqueued"]
        )
        if changed:
            row = self.get(outbox_id)
            assert row is not None  # it was just changed
            self.due.append(row.delivery_id)
        return changed


def _record(row: OutboxRow) -> OutboxRecord:
    return OutboxRecord(
        id=row.id,
        submission_id=row.submission_id,
        event_id=row.event_id,
        channel=cast(_Channel, row.channel),
        recipient=row.recipient,
        role=row.role,
        url=row.url,
        secret_env=row.secret_env,
        template=row.template,
        language=row.language,
        status=cast(OutboxStatus, row.status),
        attempts=row.attempts,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
        delivery_key=row.delivery_key,
        delivery_id=row.delivery_id,
        draft_id=row.draft_id,
    )
