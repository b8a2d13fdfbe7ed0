"""Retention: personal data is kept no longer than needed (DSGVO Art. 5(1)(e)).

:func:`purge` does, in this order:

1. erase every submission whose retention ended: it is in a final state of its workflow
   version, and more than ``retention_days`` (of its own form version; else the deployment's
   ``FORMFLOW_RETENTION_DAYS``; neither: kept) have passed since it last entered that state;
2. delete every draft that expired, or that was last saved more than ``FORMFLOW_DRAFT_DAYS``
   ago;
3. delete audit-log entries older than ``FORMFLOW_AUDIT_DAYS``.

``formflow data purge`` runs it on demand; the notification workers run it on a schedule
(``workers.purging``). Its report holds references and counts only — no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from engine.services.audit import DEFAULT_AUDIT_DAYS, purge_audit_log, record_admin_action
from engine.services.drafts import DEFAULT_DRAFT_TTL
from engine.services.loading import form_of, workflow_of
from engine.services.personal_data import Erased, erase_in_transaction

if TYPE_CHECKING:
    from engine.records import SubmissionRecord
    from engine.storage import Database, Store

__all__ = ["DEFAULT_DRAFT_DAYS", "PurgeReport", "RetentionSettings", "purge"]

DEFAULT_DRAFT_DAYS = DEFAULT_DRAFT_TTL.days
RETENTION_ACTOR = "retention"
_BATCH = 100


@dataclass(frozen=True, slots=True)
class RetentionSettings:
    retention_days: int | None = None
    """``FORMFLOW_RETENTION_DAYS``: for forms without ``retention_days``; None: keep."""
    draft_days: float = DEFAULT_DRAFT_DAYS
    """``FORMFLOW_DRAFT_DAYS``: drafts last saved longer ago are deleted."""
    audit_days: int = DEFAULT_AUDIT_DAYS
    """``FORMFLOW_AUDIT_DAYS``: how long audit-log entries are kept."""


@dataclass(frozen=True, slots=True)
class PurgeReport:
    dry_run: bool
    erased: list[str] = field(default_factory=list)
    """References of the submissions erased (or, dry run, due)."""
    drafts: int = 0
    audit_entries: int = 0

    def lines(self) -> list[str]:
        verb = "would erase" if self.dry_run else "erased"
        out = [f"{verb} {reference}" for reference in self.erased]
        would = "would delete" if self.dry_run else "deleted"
        out.append(f"{verb} {len(self.erased)} submission(s); {would} {self.drafts} "
                   f"draft(s) and {self.audit_entries} audit entr(y/ies)")
        return out


def purge(db: Database, settings: RetentionSettings, *, dry_run: bool = False) -> PurgeReport:
    with db.read() as store:
        due = _due(db, store, settings.retention_days)
        now = store.now
        draft_cutoff = now - timedelta(days=settings.draft_days)
        drafts = [d.id for d in store.personal_data.drafts()
                  if d.expires_at <= now or d.updated_at <= draft_cutoff]
        audit_cutoff = now - timedelta(days=settings.audit_days)
        old_audit = store.audit.count(before=audit_cutoff)
    if dry_run:
        return PurgeReport(True, [s.reference for s, _ in due], len(drafts), old_audit)
    erased: list[Erased] = []
    for start in range(0, len(due), _BATCH):
        with db.transaction() as store:
            for submission, days in due[start:start + _BATCH]:
                current = store.submissions.get(submission.id)
                if current is None or current.erased_at is not None:
                    continue
                erased.append(erase_in_transaction(
                    db, store, current, actor=RETENTION_ACTOR,
                    reason=f"retention period of {days} day(s) ended"))
    with db.transaction() as store:
        deleted = store.personal_data.delete_drafts(drafts)
        audit = purge_audit_log(store, settings.audit_days)
        if erased or deleted or audit:
            record_admin_action(
                store, RETENTION_ACTOR, "retention_purge", "submissions and drafts",
                f"{len(erased)} submission(s) erased, {deleted} draft(s) and {audit} audit "
                "entr(y/ies) deleted")
    if erased or deleted:
        db.forget_erased()
    return PurgeReport(False, [e.reference for e in erased], deleted, audit)


def _due(
    db: Database, store: Store, default_days: int | None
) -> list[tuple[SubmissionRecord, int]]:
    """Live submissions whose retention has ended, each with its retention in days."""
    due = []
    for workflow_row in store.personal_data.workflow_versions_in_use():
        record = store.definitions.by_row_id(workflow_row)
        assert record is not None  # a foreign key
        finals = {s.id for s in workflow_of(db, record).states if s.final}
        for submission, entered in store.personal_data.in_final_states(workflow_row, finals):
            form_record = store.definitions.by_row_id(submission.form_version_row)
            assert form_record is not None
            days = form_of(db, form_record).retention_days or default_days
            if days is not None and _ended(entered, days, store.now):
                due.append((submission, days))
    return due


def _ended(entered: datetime, days: int, now: datetime) -> bool:
    return entered + timedelta(days=days) <= now
