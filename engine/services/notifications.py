"""The notification outbox: what is owed is written with the event that owes it.

``queue_notifications`` runs inside the transaction that records an event (submit, transition),
so a committed state change always has its notifications and a rolled-back one never does.
Recipients are resolved then and there — the applicant's address from the answers, every
active user of a role — one row per delivery, each with a unique ``delivery_key`` so that a
relay that runs twice cannot deliver twice.

The rest of the module is the workers' side: find rows to enqueue, record how delivery went,
and gather everything a job needs to render one notification.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from engine.exceptions import InvalidInput, NotFound
from engine.model import FormDefinition, Notification, WorkflowDefinition
from engine.records import OutboxEntry
from engine.services.loading import form_of, workflow_of

if TYPE_CHECKING:
    from engine.records import (
        DraftRecord,
        EventRecord,
        OutboxRecord,
        OutboxStatus,
        SubmissionRecord,
    )
    from engine.storage import Database, Store


__all__ = [
    "Delivery",
    "DraftLinkDelivery",
    "delivery",
    "get_notification",
    "mark_enqueued",
    "mark_enqueued_many",
    "mark_failed",
    "mark_sent",
    "notifications_for",
    "notifications_to_enqueue",
    "notification_by_delivery_id",
    "notifications_with_status",
    "submission_references",
    "queue_notifications",
    "retry_notification",
]

APPLICANT = "applicant"
ROLE_PREFIX = "role:"


def queue_notifications(
    store: Store,
    *,
    submission: SubmissionRecord,
    event: EventRecord,
    notifications: Iterable[Notification],
    form: FormDefinition,
) -> list[OutboxRecord]:
    """Write one pending outbox row per delivery the notifications call for (same transaction).

    All rows of the event go to the database in one statement. The active staff is read
    once, and only when a notification names a role."""
    entries: list[OutboxEntry] = []
    staff: list[tuple[str, tuple[str, ...]]] | None = None
    for index, notification in enumerate(notifications):
        to = notification.to or ""
        if notification.channel != "webhook" and to.startswith(ROLE_PREFIX) and staff is None:
            staff = store.accounts.active_staff()
        for target in _targets(notification, submission, form, staff or []):
            channel, recipient, role, url, language = target
            entries.append(
                OutboxEntry(
                    submission_id=submission.id,
                    event_id=event.id,
                    channel=channel,
                    recipient=recipient,
                    role=role,
                    url=url,
                    secret_env=notification.secret_env,
                    template=notification.template,
                    language=language,
                    delivery_key=_delivery_key(event.id, index, channel, recipient or url or ""),
                )
            )
    return store.outbox.add_many(entries)


_Target = tuple[str, str | None, str | None, str | None, str]
"""channel, recipient address, role (``applicant``/role name), webhook url, language."""


def _targets(
    notification: Notification,
    submission: SubmissionRecord,
    form: FormDefinition,
    staff: list[tuple[str, tuple[str, ...]]],
) -> list[_Target]:
    """Where one notification goes; ``staff``: (email, roles) of the active users, by email
    (read by the caller when the notification names a role)."""
    staff_language = form.default_language
    if notification.channel == "webhook":
        return [("webhook", None, None, notification.webhook, submission.language)]
    to = notification.to or ""
    if to == APPLICANT:
        address = submission.answers.get(form.applicant_email) if form.applicant_email else None
        if not isinstance(address, str) or not address:
            return []  # the applicant left no address (optional field): nobody to tell
        return [("mail", address, APPLICANT, None, submission.language)]
    if to.startswith(ROLE_PREFIX):
        role = to[len(ROLE_PREFIX):]
        return [("mail", email, role, None, staff_language)
                for email, roles in staff if role in roles]
    return [("mail", to, None, None, staff_language)]


def _delivery_key(event_id: int, index: int, channel: str, destination: str) -> str:
    raw = f"{event_id}\x1f{index}\x1f{channel}\x1f{destination}"
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


# -- the workers' side ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Delivery:
    """Everything a job needs to render and send one notification."""

    outbox: OutboxRecord
    submission: SubmissionRecord
    event: EventRecord
    form: FormDefinition
    workflow: WorkflowDefinition

    def template_context(self) -> dict[str, Any]:
        """The names templates see (DEFINITIONS §3): ``submission``, ``answers``,
        ``transition``; texts are left as language maps for the renderer to localise."""
        return {
            "submission": {
                "id": self.submission.id,
                "state": self.submission.state,
                "reference": self.submission.reference,
                "created_at": self.submission.created_at.isoformat(),
                "form_title": dict(self.form.title),
            },
            "answers": dict(self.submission.answers),
            "transition": {
                "id": self.event.transition,
                "actor": self.event.actor,
                "comment": self.event.comment,
            },
        }


@dataclass(frozen=True, slots=True)
class DraftLinkDelivery:
    """Everything a job needs to mail a draft's resume link (``engine.resume_mail``)."""

    outbox: OutboxRecord
    draft: DraftRecord
    form: FormDefinition


def notifications_to_enqueue(
    db: Database, *, older_than: timedelta | None = None, limit: int = 100
) -> list[OutboxRecord]:
    """Pending rows, oldest first; ``older_than`` skips rows a live request may still enqueue."""
    with db.read() as store:
        cutoff = store.now - older_than if older_than is not None else None
        return store.outbox.with_status(["pending"], created_before=cutoff, limit=limit)


def notifications_for(db: Database, submission_id: str) -> list[OutboxRecord]:
    with db.read() as store:
        return store.outbox.for_submission(submission_id)


def notifications_with_status(
    db: Database, statuses: Iterable[OutboxStatus], *, limit: int = 100
) -> list[OutboxRecord]:
    """Rows in any of ``statuses``, oldest first (operators: what failed, what waits)."""
    with db.read() as store:
        return store.outbox.with_status(list(statuses), limit=limit)


def submission_references(db: Database, rows: Iterable[OutboxRecord]) -> dict[str, str]:
    """Submission id → reference for the submissions ``rows`` belong to, so that pages name
    them the way people do (``M-2026-00001``) rather than by their id."""
    ids = sorted({row.submission_id for row in rows if row.submission_id})
    with db.read() as store:
        return store.submissions.references(ids)


def get_notification(db: Database, outbox_id: int) -> OutboxRecord:
    """One outbox row; ``NotFound``."""
    with db.read() as store:
        row = store.outbox.get(outbox_id)
    if row is None:
        raise NotFound(f"there is no notification {outbox_id}")
    return row


def notification_by_delivery_id(db: Database, delivery_id: str) -> OutboxRecord | None:
    """The row with this delivery id (the UUID a job carries); None when there is none — the
    job belongs to another installation or to a database since restored to an earlier state."""
    with db.read() as store:
        return store.outbox.by_delivery_id(delivery_id)


def retry_notification(db: Database, outbox_id: int) -> OutboxRecord:
    """Give a failed notification another try: back to ``pending``, then enqueued.

    The enqueue is the database's post-commit hook (``Database.on_outbox_committed``), as for
    a new submission, so the admin page, the CLI and anything else calling this need no Redis
    of their own; with Redis down the row waits for the relay. Attempts and the last error
    are kept (a successful delivery clears the error). ``NotFound`` for an unknown id,
    ``InvalidInput`` for a notification that was delivered already, or cancelled because its
    submission's personal data was erased (it has no recipient any more).
    """
    with db.transaction() as store:
        row = store.outbox.get(outbox_id)
        if row is None:
            raise NotFound(f"there is no notification {outbox_id}")
        if row.status == "sent":
            raise InvalidInput("outbox_id", f"notification {outbox_id} was delivered already; "
                               "there is nothing to retry")
        if row.status == "cancelled":
            raise InvalidInput("outbox_id", f"notification {outbox_id} was cancelled: its "
                               "submission's personal data was erased")
        store.outbox.make_due_again(outbox_id)
        updated = store.outbox.get(outbox_id)
    assert updated is not None
    return updated


def mark_enqueued(db: Database, outbox_id: int) -> bool:
    """pending → enqueued; False when another relay got there first (or it is gone)."""
    return _set(db, outbox_id, "enqueued", only_from=["pending"])


def mark_enqueued_many(db: Database, delivery_ids: Iterable[str]) -> int:
    """pending → enqueued for several rows, named by delivery id, in one transaction; how
    many moved."""
    ids = list(delivery_ids)
    if not ids:
        return 0
    with db.transaction() as store:
        return store.outbox.set_status_many(ids, "enqueued", only_from=["pending"])


def mark_sent(db: Database, outbox_id: int) -> bool:
    return _set(db, outbox_id, "sent", count_attempt=True, only_from=["pending", "enqueued"])


def mark_failed(db: Database, outbox_id: int, error: str, *, final: bool) -> bool:
    """Record a failed attempt; ``final`` gives up (status failed), else it stays enqueued."""
    status: OutboxStatus = "failed" if final else "enqueued"
    return _set(
        db, outbox_id, status, error=error[:2000], count_attempt=True,
        only_from=["pending", "enqueued"],
    )


def _set(
    db: Database,
    outbox_id: int,
    status: OutboxStatus,
    *,
    error: str | None = None,
    count_attempt: bool = False,
    only_from: list[OutboxStatus] | None = None,
) -> bool:
    with db.transaction() as store:
        return store.outbox.set_status(
            outbox_id, status, error=error, count_attempt=count_attempt, only_from=only_from
        )


def delivery(db: Database, outbox_id: int) -> Delivery | DraftLinkDelivery:
    """The outbox row with its submission, event and pinned definitions — or, for a resume
    link, with its draft and form version; ``NotFound``."""
    with db.read() as store:
        outbox = store.outbox.get(outbox_id)
        if outbox is None:
            raise NotFound(f"there is no notification {outbox_id}")
        if outbox.submission_id is None or outbox.event_id is None:
            draft = store.drafts.get(outbox.draft_id) if outbox.draft_id else None
            if draft is None:
                raise NotFound(f"notification {outbox_id} refers to a deleted draft")
            draft_form = store.definitions.by_row_id(draft.form_version_row)
            assert draft_form is not None  # foreign key
            return DraftLinkDelivery(outbox, draft, form_of(db, draft_form))
        submission = store.submissions.get(outbox.submission_id)
        event = next(
            (e for e in store.events.for_submission(outbox.submission_id)
             if e.id == outbox.event_id),
            None,
        )
        if submission is None or event is None:
            raise NotFound(f"notification {outbox_id} refers to a deleted submission")
        form_record = store.definitions.by_row_id(submission.form_version_row)
        workflow_record = store.definitions.by_row_id(submission.workflow_version_row)
    assert form_record is not None and workflow_record is not None  # foreign keys
    return Delivery(
        outbox=outbox,
        submission=submission,
        event=event,
        form=form_of(db, form_record),
        workflow=workflow_of(db, workflow_record),
    )
