"""An applicant's personal data: found by address, handed out (DSGVO Art. 15, 20) and erased
(Art. 17).

An applicant's personal data is every answer of a submission plus the address and name the
form maps in ``applicant`` (copied into outbox rows) and the texts written about them (a
transition's message, staff notes). Erasure keeps a tombstone — reference, form, versions,
states and dates, the status token's hash (the status link then says the data was erased),
the consent records — and an ``erased`` event with the actor, time and reason. Everything
else goes, in one transaction: the answers, the events' texts, the applicant's address and
the error texts of the outbox rows, the pending notifications (cancelled), the drafts of the
same address. Uploaded files do not exist yet; when they do, :func:`erase_submission` must
remove their content in the same transaction (see ``erase_in_transaction``).

On SQLite the database runs with ``secure_delete`` and the WAL is checkpointed after every
erasure (``Database.forget_erased``), so the erased values are in neither file afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.exceptions import InvalidInput, NotFound
from engine.model import FormDefinition
from engine.services.audit import record_admin_action
from engine.services.comments import checked_comment
from engine.services.loading import form_of, workflow_of
from engine.text import localize

if TYPE_CHECKING:
    from engine.records import (
        DraftRecord,
        EventRecord,
        OutboxRecord,
        SubmissionRecord,
    )
    from engine.storage import Database, Store

__all__ = [
    "Erased",
    "applicant_address",
    "consent_records",
    "erase_by_email",
    "erase_by_reference",
    "erase_in_transaction",
    "erase_submission",
    "export_personal_data",
    "submission_data",
]

EXPORT_FORMAT = "formflow-personal-data/1"
MAX_REASON = 1000


@dataclass(frozen=True, slots=True)
class Erased:
    """What one erasure did (references and counts only: no personal data)."""

    reference: str
    form_id: str
    cancelled_notifications: int
    deleted_drafts: int


def consent_records(
    form: FormDefinition, form_version: int, answers: Mapping[str, Any], language: str,
    at: datetime,
) -> list[dict[str, Any]]:
    """One record per ticked ``"consent": true`` checkbox: the label exactly as shown (in
    the submission's language), the language, the form version and the time."""
    return [
        {
            "field": f.id,
            "label": localize(f.label, language, form.default_language),
            "language": language,
            "form_version": form_version,
            "at": at.isoformat(),
        }
        for f in form.fields()
        if f.consent and answers.get(f.id) is True
    ]


def applicant_address(form: FormDefinition, answers: Mapping[str, Any]) -> str | None:
    """The applicant's address as answered (the form's ``applicant.email`` field), folded
    for comparison; None when the form maps none or it is empty."""
    if not form.applicant_email:
        return None
    value = answers.get(form.applicant_email)
    return value.strip().casefold() if isinstance(value, str) and value.strip() else None


def _wanted_address(email: str) -> str:
    folded = (email or "").strip().casefold()
    if "@" not in folded or len(folded) > 254:
        raise InvalidInput("email", "give the applicant's e-mail address")
    return folded


def _checked_reason(reason: str) -> str:
    text = (checked_comment(reason, field="note") or "").strip()
    if not text:
        raise InvalidInput("reason", "an erasure needs a reason")
    if len(text) > MAX_REASON:
        raise InvalidInput("reason", f"a reason may have at most {MAX_REASON} characters")
    return text


# -- erasure -------------------------------------------------------------------------------


def erase_submission(db: Database, submission_id: str, *, actor: str, reason: str) -> Erased:
    """Erase one submission's personal data (see the module docstring); ``NotFound`` for an
    unknown one. Erasing a tombstone again changes nothing and reports zero counts."""
    why = _checked_reason(reason)
    with db.transaction() as store:
        submission = store.submissions.get(submission_id)
        if submission is None:
            raise NotFound(f"there is no submission {submission_id!r}")
        erased = erase_in_transaction(db, store, submission, actor=actor, reason=why)
    db.forget_erased()
    return erased


def erase_by_reference(db: Database, reference: str, *, actor: str, reason: str) -> Erased:
    with db.read() as store:
        submission = store.submissions.by_reference(reference.strip())
    if submission is None:
        raise NotFound(f"there is no submission {reference!r}")
    return erase_submission(db, submission.id, actor=actor, reason=reason)


def erase_by_email(db: Database, email: str, *, actor: str, reason: str) -> list[Erased]:
    """Erase every submission and draft of the address (compared case-insensitively)."""
    address = _wanted_address(email)
    why = _checked_reason(reason)
    done = []
    with db.transaction() as store:
        for submission in _submissions_of(db, store, address):
            done.append(erase_in_transaction(db, store, submission, actor=actor, reason=why))
        drafts = [d.id for d in _drafts_of(db, store, address)]
        deleted = store.personal_data.delete_drafts(drafts)
        if deleted and not done:
            record_admin_action(store, actor, "erase", "drafts", f"{deleted} draft(s)")
    db.forget_erased()
    if deleted and done:
        first = done[0]
        done[0] = Erased(first.reference, first.form_id, first.cancelled_notifications,
                         first.deleted_drafts + deleted)
    return done


def erase_in_transaction(
    db: Database, store: Store, submission: SubmissionRecord, *, actor: str, reason: str
) -> Erased:
    """The erasure of one submission, in the caller's transaction: its uploaded files (bytes
    and names) go with its answers; its drafts' files go with the drafts."""
    if submission.erased_at is not None:
        return Erased(submission.reference, submission.form_id, 0, 0)
    form = _form(db, store, submission.form_version_row)
    address = applicant_address(form, submission.answers)
    drafts = [d.id for d in _drafts_of(db, store, address, form_id=submission.form_id)] \
        if address else []
    store.personal_data.erase_submission(submission.id)
    store.files.delete_for_submission(submission.id)
    cancelled = store.personal_data.cancel_notifications(submission.id)
    store.personal_data.scrub_notifications(submission.id)
    deleted = store.personal_data.delete_drafts(drafts)
    store.events.add(submission_id=submission.id, kind="erased", actor=actor,
                     from_state=submission.state, to_state=submission.state, note=reason)
    record_admin_action(store, actor, "erase", submission.reference,
                        f"form {submission.form_id} v{submission.form_version}")
    return Erased(submission.reference, submission.form_id, cancelled, deleted)


def _form(db: Database, store: Store, form_version_row: int) -> FormDefinition:
    record = store.definitions.by_row_id(form_version_row)
    assert record is not None  # a foreign key
    return form_of(db, record)


def _submissions_of(db: Database, store: Store, address: str) -> list[SubmissionRecord]:
    return [s for s in store.personal_data.live_submissions()
            if applicant_address(_form(db, store, s.form_version_row), s.answers) == address]


def _drafts_of(
    db: Database, store: Store, address: str | None, *, form_id: str | None = None
) -> list[DraftRecord]:
    if address is None:
        return []
    return [d for d in store.personal_data.drafts()
            if (form_id is None or d.form_id == form_id)
            and applicant_address(_form(db, store, d.form_version_row), d.answers) == address]


# -- access and portability ----------------------------------------------------------------


def export_personal_data(db: Database, email: str, *, actor: str) -> dict[str, Any]:
    """Every submission and draft of the address as one JSON-ready document (staff view:
    with internal notes and who did what); recorded in the audit log."""
    address = _wanted_address(email)
    with db.read() as store:
        submissions = [
            _submission_document(db, store, s, staff=True)
            for s in _submissions_of(db, store, address)
        ]
        drafts = [_draft_document(db, store, d) for d in _drafts_of(db, store, address)]
        now = store.now
    with db.transaction() as store:
        record_admin_action(store, actor, "personal_data_export", "by address",
                            f"{len(submissions)} submission(s), {len(drafts)} draft(s)")
    return {
        "format": EXPORT_FORMAT,
        "email": address,
        "exported_at": now.isoformat(),
        "submissions": submissions,
        "drafts": drafts,
    }


def submission_data(
    db: Database, submission_id: str, *, staff: bool, actor: str | None = None
) -> dict[str, Any]:
    """One submission as in :func:`export_personal_data`. ``staff=False`` is the
    applicant's own download from the status page: no internal notes, no staff names.
    ``actor``: the staff member downloading (recorded in the audit log)."""
    with db.read() as store:
        submission = store.submissions.get(submission_id)
        if submission is None:
            raise NotFound(f"there is no submission {submission_id!r}")
        document = _submission_document(db, store, submission, staff=staff)
        now = store.now
    if actor is not None:
        with db.transaction() as store:
            record_admin_action(store, actor, "personal_data_export", submission.reference)
    return {"format": EXPORT_FORMAT, "exported_at": now.isoformat(),
            "submissions": [document], "drafts": []}


def _submission_document(
    db: Database, store: Store, submission: SubmissionRecord, *, staff: bool
) -> dict[str, Any]:
    form = _form(db, store, submission.form_version_row)
    workflow_record = store.definitions.by_row_id(submission.workflow_version_row)
    assert workflow_record is not None
    workflow = workflow_of(db, workflow_record)
    language = submission.language

    def state(state_id: str | None) -> dict[str, str] | None:
        if state_id is None:
            return None
        found = {s.id: s for s in workflow.states}.get(state_id)
        label = localize(found.label, language, form.default_language) if found else state_id
        return {"id": state_id, "label": label or state_id}

    events = store.events.for_submission(submission.id)
    return {
        "reference": submission.reference,
        "form": {"id": form.id, "version": submission.form_version,
                 "title": localize(form.title, language, form.default_language)},
        "workflow": {"id": submission.workflow_id, "version": submission.workflow_version},
        "language": language,
        "state": state(submission.state),
        "created_at": submission.created_at.isoformat(),
        "updated_at": submission.updated_at.isoformat(),
        "erased_at": submission.erased_at.isoformat() if submission.erased_at else None,
        "answers": _labelled(form, submission.answers, language),
        "consents": [dict(c) for c in submission.consents],
        "history": [_event_document(e, state, staff=staff) for e in events],
        "notifications": _notifications(store.outbox.for_submission(submission.id)),
    }


def _event_document(event: EventRecord, state: Any, *, staff: bool) -> dict[str, Any]:
    document: dict[str, Any] = {
        "kind": event.kind,
        "at": event.at.isoformat(),
        "transition": event.transition,
        "from_state": state(event.from_state),
        "to_state": state(event.to_state),
        "message": event.comment if event.kind == "transition" else None,
    }
    if staff:
        document["actor"] = event.actor
        document["note"] = event.note
        if event.kind == "assignment":
            document["assigned_to"] = event.comment
    return document


def _notifications(rows: Iterable[OutboxRecord]) -> list[dict[str, Any]]:
    """The mails to the applicant: what, when, and whether it went."""
    return [
        {"template": row.template, "language": row.language, "status": row.status,
         "created_at": row.created_at.isoformat(),
         "delivered_at": row.delivered_at.isoformat() if row.delivered_at else None,
         "recipient": row.recipient}
        for row in rows if row.role == "applicant" and row.channel == "mail"
    ]


def _draft_document(db: Database, store: Store, draft: DraftRecord) -> dict[str, Any]:
    form = _form(db, store, draft.form_version_row)
    return {
        "form": {"id": form.id, "version": draft.form_version,
                 "title": localize(form.title, draft.language, form.default_language)},
        "language": draft.language,
        "created_at": draft.created_at.isoformat(),
        "updated_at": draft.updated_at.isoformat(),
        "expires_at": draft.expires_at.isoformat(),
        "answers": _labelled(form, draft.answers, draft.language),
    }


def _labelled(
    form: FormDefinition, answers: Mapping[str, Any], language: str
) -> list[dict[str, Any]]:
    """Answers in the form's order with the labels of the submission's form version."""
    fields = form.field_map()
    ordered: Sequence[str] = [f.id for f in form.fields() if f.id in answers] + [
        key for key in answers if key not in fields]
    rows = []
    for key in ordered:
        f = fields.get(key)
        value = answers[key]
        row: dict[str, Any] = {
            "field": key,
            "label": localize(f.label, language, form.default_language) if f else key,
            "value": value,
        }
        if f is not None and f.options:
            labels = {o.value: localize(o.label, language, form.default_language)
                      for o in f.options}
            chosen = value if isinstance(value, list) else [value]
            row["value_labels"] = [labels.get(str(v), str(v)) for v in chosen if v is not None]
        rows.append(row)
    return rows
