"""Submitting a form and reading submissions back.

``submit`` runs in ONE write transaction: it reads the published form and workflow, evaluates
the answers with the engine (the server is authoritative) and stores the visible answers, the
``created`` event and the notifications due on entering the workflow's initial state — either
all of it is there, or none of it. Reading the published versions inside the transaction pins
the submission to what is published when it is stored, by construction. The loaded and
compiled definitions come from ``db.memo`` (``engine.services.loading``, by content hash).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING, Any

from engine.evaluation import evaluate
from engine.exceptions import NotFound, SubmissionInvalid
from engine.messages import message
from engine.model import FormDefinition, WorkflowDefinition
from engine.services.availability import admission
from engine.services.comments import checked_comment
from engine.services.files import Upload, named_files, store_uploads
from engine.services.loading import compiled_form, form_of, workflow_of
from engine.services.notifications import queue_notifications
from engine.services.personal_data import consent_records
from engine.services.tokens import hash_token, new_token, submission_token
from engine.workflows import notifications_on_entering

if TYPE_CHECKING:
    from engine.records import DefinitionVersionRecord, EventRecord, SubmissionRecord
    from engine.storage import Database
    from engine.storage.store import Store


__all__ = [
    "SubmissionCreated",
    "add_comment",
    "definitions_of",
    "get_submission",
    "history",
    "list_submissions",
    "reference_prefix",
    "status_token",
    "submission_for_token",
    "submit",
]

APPLICANT_ACTOR = "applicant"


@dataclass(frozen=True, slots=True)
class SubmissionCreated:
    id: str
    reference: str
    state: str
    token: str
    """The applicant's secret for this submission: shown once, stored only as a hash."""


def reference_prefix(form: FormDefinition) -> str:
    """The form's configured prefix, else the first letter of its id, uppercased."""
    configured = getattr(form, "reference_prefix", "")
    return str(configured) if configured else form.id[0].upper()


def submit(
    db: Database,
    form_id: str,
    answers: Mapping[str, Any],
    language: str | None = None,
    *,
    draft_token: str | None = None,
    zone: tzinfo | None = None,
    uploads: Sequence[Upload] = (),
) -> SubmissionCreated:
    """Store a new submission; ``SubmissionInvalid`` (with every field error), ``NotFound``,
    or ``FormUnavailable`` (outside the form's window, or full without a waiting list).

    ``draft_token``: the draft this submission completes is deleted in the same transaction;
    the draft's files the answers name become the submission's. ``uploads``: files sent with
    the request (the API's multipart body), stored with the submission. A file answer naming
    any other file is refused.
    ``zone``: the zone of the form's ``opens_at``/``closes_at`` (FORMFLOW_TIMEZONE). A form
    with a capacity is counted under a lock (``engine.services.availability``); beyond it, a
    form with a waiting list enters its workflow's ``waitlist_state`` instead of the initial.
    """
    submission_id = uuid.uuid4().hex
    # Derived when the app gave a key, so the notification worker can rebuild the status link.
    key = db.submission_token_key
    token = submission_token(key, submission_id) if key else new_token()
    with db.transaction() as store:
        form_record = store.definitions.published("form", form_id)
        if form_record is None:
            raise NotFound(f"there is no published form {form_id!r}")
        form = form_of(db, form_record)
        workflow_record = store.definitions.published("workflow", form.workflow)
        if workflow_record is None:  # publish_form refuses this; a later change could cause it
            raise NotFound(f"the workflow {form.workflow!r} of form {form_id!r} is not published")
        workflow = workflow_of(db, workflow_record)
        entering = admission(db, store, form, workflow, zone)
        evaluation = evaluate(compiled_form(db, form_record), answers, language)
        if evaluation.answers is None:
            raise SubmissionInvalid(evaluation.errors)
        prefix = reference_prefix(form)
        stored_language = language if language in form.languages else form.default_language
        number = store.submissions.next_reference_number(prefix, store.now.year)
        submission = store.submissions.add(
            submission_id=submission_id,
            reference=f"{prefix}-{store.now.year}-{number:05d}",
            form_id=form.id,
            form_version_row=form_record.row_id,
            form_version=form_record.version,
            workflow_version_row=workflow_record.row_id,
            workflow_id=workflow_record.definition_id,
            workflow_version=workflow_record.version,
            state=entering,
            token_hash=hash_token(token),
            answers=evaluation.answers,
            language=stored_language,
            consents=consent_records(form, form_record.version, evaluation.answers,
                                     stored_language, store.now),
        )
        _claim_files(store, form, evaluation.answers, uploads, submission.id, draft_token)
        event = store.events.add(
            submission_id=submission.id,
            kind="created",
            actor=APPLICANT_ACTOR,
            to_state=entering,
        )
        queue_notifications(
            store,
            submission=submission,
            event=event,
            notifications=notifications_on_entering(workflow, entering),
            form=form,
        )
        if draft_token:
            store.drafts.delete(hash_token(draft_token))
    return SubmissionCreated(submission.id, submission.reference, submission.state, token)


def _claim_files(
    store: Store, form: FormDefinition, answers: Mapping[str, Any], uploads: Sequence[Upload],
    submission_id: str, draft_token: str | None,
) -> None:
    """The files the answers name, stored (uploads) or handed over (the draft's) to the new
    submission; ``SubmissionInvalid`` when one of them is neither (nothing is stored)."""
    named = named_files(form, answers)
    store_uploads(store, list(uploads), named, submission_id=submission_id)
    from_draft = set(named) - {u.ref.id for u in uploads if named.get(u.ref.id) == u.field_id}
    draft = store.drafts.by_token_hash(hash_token(draft_token)) if draft_token else None
    moved = store.files.move_to_submission(
        from_draft, draft_id=draft.id, submission_id=submission_id) if draft else 0
    if moved != len(from_draft):
        fields = sorted({named[file_id] for file_id in from_draft})
        raise SubmissionInvalid({f: [message("not_a_file", form.default_language)]
                                 for f in fields})


def get_submission(db: Database, submission_id: str) -> SubmissionRecord:
    """``NotFound`` when there is no such submission."""
    with db.read() as store:
        submission = store.submissions.get(submission_id)
    if submission is None:
        raise NotFound(f"there is no submission {submission_id!r}")
    return submission


def submission_for_token(db: Database, token: str) -> SubmissionRecord | None:
    """The submission whose applicant token this is, or None (wrong, empty or unknown)."""
    if not token:
        return None
    with db.read() as store:
        return store.submissions.by_token_hash(hash_token(token))


def status_token(db: Database, submission_id: str) -> str | None:
    """The applicant's token of ``submission_id`` rebuilt from ``db.submission_token_key``.

    None when the database has no key, or when the stored hash does not match — a submission
    made with a random token (before tokens were derived) or under a secret key since rotated:
    better no link than a link that does not open.
    """
    key = db.submission_token_key
    if not key:
        return None
    token = submission_token(key, submission_id)
    found = submission_for_token(db, token)
    return token if found is not None and found.id == submission_id else None


def history(db: Database, submission_id: str) -> list[EventRecord]:
    """Every event of the submission, oldest first; ``NotFound`` for an unknown one."""
    with db.read() as store:
        if store.submissions.get(submission_id) is None:
            raise NotFound(f"there is no submission {submission_id!r}")
        return store.events.for_submission(submission_id)


def list_submissions(
    db: Database,
    *,
    form_id: str | None = None,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[SubmissionRecord]:
    """Newest first (coordinators' overview)."""
    with db.read() as store:
        return store.submissions.list(form_id=form_id, state=state, limit=limit, offset=offset)


def add_comment(db: Database, submission_id: str, actor: str, comment: str) -> EventRecord:
    """Record a coordinator's internal note in the history without changing the state
    (an event of kind ``comment`` whose text is its ``note``); raises ``CommentInvalid`` for
    one too long or holding a forbidden character.

    Such a note is always internal: the applicant is only ever told something through a
    transition's ``comment``, which is also what their mails are sent for.
    """
    text = (checked_comment(comment, field="note") or "").strip()
    if not text:
        raise SubmissionInvalid({"note": ["a note cannot be empty"]})
    with db.transaction() as store:
        if store.submissions.get(submission_id) is None:
            raise NotFound(f"there is no submission {submission_id!r}")
        return store.events.add(
            submission_id=submission_id, kind="comment", actor=actor, note=text
        )


def definitions_of(
    db: Database, submission: SubmissionRecord
) -> tuple[FormDefinition, WorkflowDefinition]:
    """The form and workflow versions the submission is pinned to (for labels, transitions)."""
    form_record, workflow_record = _pinned(db, submission)
    return form_of(db, form_record), workflow_of(db, workflow_record)


def _pinned(
    db: Database, submission: SubmissionRecord
) -> tuple[DefinitionVersionRecord, DefinitionVersionRecord]:
    with db.read() as store:
        form_record = store.definitions.by_row_id(submission.form_version_row)
        workflow_record = store.definitions.by_row_id(submission.workflow_version_row)
    assert form_record is not None and workflow_record is not None  # foreign keys
    return form_record, workflow_record
