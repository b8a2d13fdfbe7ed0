"""The notification outbox: rows written with their event, delivered later by workers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from functools import cache
from typing import Literal, cast

from sqlalchemy import bindparam, insert, select, update

from engine.storage.prepared import Prepared
from engine.storage.records import OutboxEntry, OutboxRecord, OutboxStatus
from engine.storage.tables import OutboxRow
from engine.storage.unit import Repository, Unit

__all__ = ["OutboxRepository"]

_COLUMNS = (
    "submission_id", "event_id", "draft_id", "channel", "recipient", "role", "url", "secret_env",
    "template", "language", "status", "attempts", "last_error", "delivered_at", "created_at",
    "delivery_key",
)
_Channel = Literal["mail", "webhook"]
"""Named once: a ``Literal[…]`` written inside ``cast`` is built on every call."""
_INSERTS: dict[int, Prepared] = {}
"""One multi-row ``INSERT … VALUES (…), (…) RETURNING id, delivery_key`` per row count, built
once. The ids are matched to the rows by their (unique) delivery key: neither backend
promises RETURNING rows in VALUES order."""


@cache
def _names(row: int) -> tuple[str, ...]:
    """The bind names of row number ``row`` of the multi-row insert."""
    return tuple(f"{name}_{row}" for name in _COLUMNS)


def _insert_rows(count: int) -> Prepared:
    found = _INSERTS.get(count)
    if found is None:
        table = OutboxRow.__table__.c
        rows = [
            {name: bindparam(bind, type_=table[name].type)
             for name, bind in zip(_COLUMNS, _names(i), strict=True)}
            for i in range(count)
        ]
        found = _INSERTS[count] = Prepared(
            insert(OutboxRow).values(rows).returning(OutboxRow.id, OutboxRow.delivery_key)
        )
    return found


class OutboxRepository(Repository):
    def __init__(self, unit: Unit, now: datetime) -> None:
        super().__init__(unit, now)
        self.due: list[int] = []
        """Ids of rows this transaction made due (added, or reset to ``pending``): the
        :class:`~engine.storage.Database` hands them to its post-commit hook."""

    def add_many(self, entries: Sequence[OutboxEntry]) -> list[OutboxRecord]:
        """Insert pending rows in ONE statement (multi-row ``INSERT … RETURNING``) and mark
        them due; the records (in the order given) are built from the values written."""
        if not entries:
            return []
        params: dict[str, object] = {}
        for i, e in enumerate(entries):
            values = (
                e.submission_id, e.event_id, e.draft_id, e.channel, e.recipient, e.role,
                e.url, e.secret_env, e.template, e.language, "pending", 0, None, None,
                self._now, e.delivery_key,
            )
            params.update(zip(_names(i), values, strict=True))
        cursor = _insert_rows(len(entries)).execute(self._link, params)
        id_of = {str(key): int(outbox_id) for outbox_id, key in cursor.fetchall()}
        ids = [id_of[e.delivery_key] for e in entries]
        self.due.extend(ids)
        created_at = self._now.astimezone(UTC)
        return [
            OutboxRecord(
                id=outbox_id,
                submission_id=e.submission_id,
                event_id=e.event_id,
                channel=cast(_Channel, e.channel),
                recipient=e.recipient,
                role=e.role,
                url=e.url,
                secret_env=e.secret_env,
                template=e.template,
                language=e.language,
                status="pending",
                attempts=0,
                last_error=None,
                delivered_at=None,
                created_at=created_at,
                delivery_key=e.delivery_key,
                draft_id=e.draft_id,
            )
            for outbox_id, e in zip(ids, entries, strict=True)
        ]

    def get(self, outbox_id: int) -> OutboxRecord | None:
        row = self._session.get(OutboxRow, outbox_id, populate_existing=True)
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
        self, outbox_ids: Iterable[int], status: OutboxStatus, *, only_from: Iterable[OutboxStatus]
    ) -> int:
        """Move several rows at once (no attempt counted); how many were in ``only_from``."""
        ids = list(outbox_ids)
        if not ids:
            return 0
        statement = (
            update(OutboxRow)
            .where(OutboxRow.id.in_(ids), OutboxRow.status.in_(list(only_from)))
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
            self.due.append(outbox_id)
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
        draft_id=row.draft_id,
    )
