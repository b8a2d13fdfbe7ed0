"""Drafts: an applicant saves partial answers and resumes later with a secret link.

Partial answers are not validated (half-typed input is the point of a draft) but they are
trimmed to what a form can hold: keys naming input fields of the form version, JSON scalars or
lists of strings, bounded in size, and no text holding a character no text may hold (a lone
surrogate, NUL or another control: ``engine.text.forbidden_character``). When a newer form
version is published meanwhile, resuming carries the draft over (DEFINITIONS §4): answers for
ids that still exist are kept and the others are reported in ``dropped`` so the applicant can
be told plainly.

Saving with ``mail_link=True`` (the applicant chose "save and continue later") also queues a mail
with the resume link when the answers hold a valid address in the form's ``applicant_email``
field — in the same transaction, through the notification outbox, so the worker delivers it with
the same retries as any other mail. The token is never stored: it is derived from the draft id
(``engine.services.tokens.draft_token``) and rebuilt by the worker. Each address gets the link
of a draft once, so saving again (or a form posted twice) sends no second mail; a corrected
address gets its own.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from engine.answers import check, convert
from engine.exceptions import DraftExpired, InvalidInput, NotFound
from engine.files import is_file_ref
from engine.model import Field, FormDefinition
from engine.records import OutboxEntry
from engine.services.files import Upload, named_files, store_uploads
from engine.services.loading import form_of
from engine.services.tokens import draft_token, hash_token, new_token
from engine.text import forbidden_character

if TYPE_CHECKING:
    from engine.storage import Database, Store


__all__ = [
    "DEFAULT_DRAFT_TTL",
    "DraftSaved",
    "ResumedDraft",
    "discard_draft",
    "purge_expired_drafts",
    "resume",
    "resume_token",
    "save_draft",
]

DEFAULT_DRAFT_TTL = timedelta(days=30)
_NO_DRAFT = "there is no draft for this link (it may have been submitted already)"
MAX_TEXT = 20_000
MAX_ITEMS = 200


@dataclass(frozen=True, slots=True)
class DraftSaved:
    token: str
    """The secret for the resume link (the same one when an existing draft was updated)."""
    form_id: str
    form_version: int
    expires_at: datetime
    link_mailed_to: str | None = None
    """The address the resume link is (or was already) mailed to; None: no mail."""


@dataclass(frozen=True, slots=True)
class ResumedDraft:
    form_id: str
    form_version: int
    """The version to continue with: the published one (maybe newer than when saved)."""
    answers: Mapping[str, Any]
    step: str | None
    language: str
    expires_at: datetime
    carried_over: bool
    """True when the draft was saved against an older form version."""
    dropped: tuple[str, ...]
    """Answered field ids the current version no longer has."""


def save_draft(
    db: Database,
    form_id: str,
    answers: Mapping[str, Any],
    *,
    step: str | None = None,
    language: str | None = None,
    token: str | None = None,
    ttl: timedelta = DEFAULT_DRAFT_TTL,
    mail_link: bool = False,
    uploads: Sequence[Upload] = (),
) -> DraftSaved:
    """Create a draft (new token) or update the one behind ``token``; expiry restarts.

    ``mail_link``: also mail the resume link to the applicant's address, if the answers hold
    a valid one and the link can be rebuilt by a worker (see the module docstring).
    ``uploads``: files sent with this save; those the answers name are stored with the draft,
    in the same transaction, and the draft's files the answers no longer name are deleted."""
    with db.read() as store:
        form_record = store.definitions.published("form", form_id)
    if form_record is None:
        raise NotFound(f"there is no published form {form_id!r}")
    form = form_of(db, form_record)
    kept = _partial_answers(form, answers)
    step_id = step if step in {s.id for s in form.steps} else None
    lang = language if language in form.languages else form.default_language
    key = db.submission_token_key
    address = _applicant_address(form, kept) if mail_link else None
    with db.transaction() as store:
        expires_at = store.now + ttl
        if token is None:
            draft_id = uuid.uuid4().hex
            token = draft_token(key, draft_id) if key else new_token()
            store.drafts.add(
                draft_id=draft_id, token_hash=hash_token(token), form_id=form.id,
                form_version_row=form_record.row_id, answers=kept, step=step_id,
                language=lang, expires_at=expires_at,
            )
        else:
            existing = store.drafts.by_token_hash(hash_token(token))
            if existing is None or existing.form_id != form.id:
                raise NotFound("there is no draft for this link")
            if existing.expires_at <= store.now:
                store.drafts.delete(hash_token(token))
                raise DraftExpired(_expired_message(existing.expires_at))
            draft_id = existing.id
            store.drafts.update(
                hash_token(token), form_version_row=form_record.row_id, answers=kept,
                step=step_id, language=lang, expires_at=expires_at,
            )
        named = named_files(form, kept)
        had = {f.id for f in store.files.of_draft(draft_id)}
        store.files.delete_of_draft(had - set(named), draft_id=draft_id)
        store_uploads(store, [u for u in uploads if u.ref.id not in had], named,
                      draft_id=draft_id)
        missing = set(named) - had - {u.ref.id for u in uploads}
        if missing:  # a reference to a file this draft never had: never stored
            raise InvalidInput("answers", "the answers name files this draft does not have")
        mailed_to = None
        if address is not None and key and token == draft_token(key, draft_id):
            _queue_resume_mail(store, draft_id, address, lang)
            mailed_to = address
    return DraftSaved(token, form.id, form_record.version, expires_at, mailed_to)


def resume_token(db: Database, draft_id: str) -> str | None:
    """The resume token of ``draft_id`` rebuilt from the database's key, for the worker that
    mails it; None without a key, for a random token, or when the draft is gone."""
    key = db.submission_token_key
    if not key:
        return None
    token = draft_token(key, draft_id)
    with db.read() as store:
        found = store.drafts.by_token_hash(hash_token(token))
    return token if found is not None and found.id == draft_id else None


def resume(db: Database, token: str) -> ResumedDraft:
    """The draft behind ``token``; ``NotFound`` or ``DraftExpired`` (the draft is then deleted)."""
    token_hash = hash_token(token or "")
    with db.read() as store:
        draft = store.drafts.by_token_hash(token_hash)
        now = store.now
        current = store.definitions.published("form", draft.form_id) if draft else None
    if draft is None:
        raise NotFound(_NO_DRAFT)
    if draft.expires_at <= now:
        with db.transaction() as store:
            store.drafts.delete(token_hash)
        raise DraftExpired(_expired_message(draft.expires_at))
    if current is None:
        raise NotFound(f"the form {draft.form_id!r} is no longer available")
    answers = dict(draft.answers)
    dropped: tuple[str, ...] = ()
    step = draft.step
    if current.row_id != draft.form_version_row:
        form = form_of(db, current)
        inputs = {f.id for f in form.fields() if f.is_input}
        dropped = tuple(sorted(k for k in answers if k not in inputs))
        answers = {k: v for k, v in answers.items() if k in inputs}
        if step not in {s.id for s in form.steps}:
            step = None
    return ResumedDraft(
        form_id=draft.form_id,
        form_version=current.version,
        answers=answers,
        step=step,
        language=draft.language,
        expires_at=draft.expires_at,
        carried_over=current.row_id != draft.form_version_row,
        dropped=dropped,
    )


def discard_draft(db: Database, token: str) -> bool:
    with db.transaction() as store:
        return store.drafts.delete(hash_token(token))


def purge_expired_drafts(db: Database) -> int:
    """Delete every expired draft (run periodically); returns how many."""
    with db.transaction() as store:
        return store.drafts.delete_expired(store.now)


def _expired_message(expires_at: datetime) -> str:
    return (
        f"this draft expired on {expires_at:%Y-%m-%d %H:%M} UTC and was deleted; "
        "please start the form again"
    )


def _applicant_address(form: FormDefinition, answers: Mapping[str, Any]) -> str | None:
    """The applicant's address if it passes its field's own checks; else None."""
    if not form.applicant_email:
        return None
    field = form.field_map().get(form.applicant_email)
    if field is None:
        return None
    value, error = convert(field, answers.get(field.id))
    if error is not None or not isinstance(value, str) or check(field, value):
        return None
    return value


def _queue_resume_mail(store: Store, draft_id: str, address: str, language: str) -> None:
    """One outbox row per (draft, address): a repeated save finds it and queues nothing."""
    raw = f"draft-link\x1f{draft_id}\x1f{address.casefold()}"
    delivery_key = hashlib.sha256(raw.encode("utf-8")).hexdigest()
    if store.outbox.has_delivery_key(delivery_key):
        return
    store.outbox.add_many([OutboxEntry(
        submission_id=None, event_id=None, draft_id=draft_id, channel="mail",
        recipient=address, role="applicant", language=language, delivery_key=delivery_key,
    )])


def _partial_answers(form: FormDefinition, answers: Mapping[str, Any]) -> dict[str, Any]:
    inputs = {f.id: f for f in form.fields() if f.is_input}
    kept = _kept(inputs, answers)
    for f in inputs.values():
        if f.is_file and isinstance(answers.get(f.id), list):  # references the server wrote
            kept[f.id] = [dict(ref) for ref in answers[f.id] if is_file_ref(ref)][:MAX_ITEMS]
    for group in (f for f in inputs.values() if f.is_group):
        rows = answers.get(group.id)
        if isinstance(rows, list | tuple):  # a row is kept as its own answers are
            cells = {cell.id: cell for cell in group.fields if cell.is_input}
            kept[group.id] = [_kept(cells, row) for row in rows[:group.repeat_max + 1]
                              if isinstance(row, Mapping)]
    return kept


def _kept(inputs: Mapping[str, Field], answers: Mapping[str, Any]) -> dict[str, Any]:
    """What a draft keeps of ``answers``: the values of ``inputs`` a step page can send, cut to
    size (a repeating group's rows are kept by the caller)."""
    kept: dict[str, Any] = {}
    for key, value in answers.items():
        if key not in inputs or inputs[key].is_group or inputs[key].is_file:
            continue
        if value is None or isinstance(value, bool | int):
            kept[key] = value
        elif isinstance(value, float):
            if math.isfinite(value):  # JSON (and PostgreSQL) have no NaN or infinity
                kept[key] = value
        elif isinstance(value, str):
            if forbidden_character(value) is None:  # else never stored: the step says why
                kept[key] = value[:MAX_TEXT]
        elif isinstance(value, list | tuple):
            kept[key] = [str(item)[:MAX_TEXT] for item in value[:MAX_ITEMS]
                         if isinstance(item, str | int | float)
                         and forbidden_character(str(item)) is None]
    return kept
