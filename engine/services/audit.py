"""The audit log of administrative actions: who did what to which object, and when.

One function writes it — :func:`record_admin_action` — inside the caller's own transaction,
so an action and its entry are stored together or not at all. The log is append-only (there
is no way to change an entry) and holds no personal data of applicants: objects are named by
definition id and version, user address, token id or a submission's reference. Entries older
than ``FORMFLOW_AUDIT_DAYS`` (default 730) are deleted by the purge
(``engine.services.retention``).

Actions recorded (``ACTIONS``): definitions published and imported, users created and their
roles, passwords and activity changed, API tokens created and revoked, erasures, personal-data
exports and retention purges. Other features add theirs by calling ``record_admin_action``
with a new action name; the admin page lists whatever names occur.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine.services.export import BOM, neutralise_cell

if TYPE_CHECKING:
    from engine.records import AuditRecord
    from engine.storage import Database, Store

__all__ = [
    "ACTIONS",
    "DEFAULT_AUDIT_DAYS",
    "AuditQuery",
    "audit_actions",
    "audit_csv_chunks",
    "audit_entries",
    "purge_audit_log",
    "record_admin_action",
]

DEFAULT_AUDIT_DAYS = 730
ACTIONS = (
    "publish", "import", "user_create", "user_roles", "user_password", "user_active",
    "token_create", "token_revoke", "erase", "personal_data_export", "retention_purge",
    "user_invite", "user_link_invite", "user_link_reset", "user_two_factor_reset",
)
"""The actions formflow itself records; the log accepts any name of up to 64 characters."""


def record_admin_action(
    store: Store, actor: str, action: str, object_ref: str, detail: str | None = None
) -> None:
    """Append one entry in the caller's transaction (``store``).

    ``actor``: the staff member's address, ``cli`` or ``retention``; ``object_ref``: what it
    was done to, never an applicant's name or address; ``detail``: counts or version numbers.
    """
    store.audit.add(actor=actor or "unknown", action=action[:64], object_ref=object_ref[:300],
                    detail=detail)


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """The admin page's filters; None: no filter on it."""

    action: str | None = None
    actor: str | None = None
    since: datetime | None = None
    before: datetime | None = None


def audit_entries(
    db: Database, query: AuditQuery, *, limit: int = 100, offset: int = 0
) -> tuple[list[AuditRecord], int]:
    """One page of entries, newest first, and how many match in all."""
    with db.read() as store:
        found = store.audit.page(action=query.action, actor=query.actor, since=query.since,
                                 before=query.before, limit=limit, offset=offset)
        total = store.audit.count(action=query.action, actor=query.actor, since=query.since,
                                  before=query.before)
    return found, total


def audit_actions(db: Database) -> list[str]:
    """Every action name known: formflow's own and any recorded so far."""
    with db.read() as store:
        recorded = store.audit.actions()
    return sorted(set(ACTIONS) | set(recorded))


def audit_csv_chunks(db: Database, query: AuditQuery) -> Iterator[str]:
    """The matching entries as CSV (BOM, header, rows), every cell safe for spreadsheets
    (``engine.services.export.neutralise_cell``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["at", "actor", "action", "object", "detail"])
    yield BOM + _drain(buffer)
    with db.read() as store:
        for count, entry in enumerate(store.audit.iterate(
                action=query.action, actor=query.actor, since=query.since,
                before=query.before), start=1):
            writer.writerow([neutralise_cell(cell) for cell in (
                entry.at.isoformat(), entry.actor, entry.action, entry.object_ref,
                entry.detail or "")])
            if count % 500 == 0:
                yield _drain(buffer)
    yield _drain(buffer)


def purge_audit_log(store: Store, days: int) -> int:
    """Delete entries older than ``days`` in the caller's transaction; how many went."""
    return store.audit.delete_before(store.now - timedelta(days=days))


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return text
