"""The records formflow's services hand out: frozen, plain values, no database objects.

The storage layer (``engine.storage``) builds them from its rows; services, the web app and
the workers see only these, so nothing outside ``engine/storage`` can lazily load, mutate or
accidentally flush database state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

__all__ = [
    "AccountLinkRecord",
    "SavedViewRecord",
    "ApiTokenRecord",
    "AuditRecord",
    "DefinitionHead",
    "DefinitionKind",
    "DefinitionVersionRecord",
    "DraftRecord",
    "EditorDraftRecord",
    "EventKind",
    "EventRecord",
    "ExportRow",
    "FileRecord",
    "InboxFilter",
    "OutboxEntry",
    "OutboxRecord",
    "OutboxStatus",
    "Position",
    "SubmissionRecord",
    "UserRecord",
    "VersionInfo",
]

DefinitionKind = Literal["form", "workflow"]
EventKind = Literal[
    "created", "transition", "comment", "assignment", "workflow_move", "erased"
]
"""``assignment``: ``comment`` holds the assignee's e-mail address, None when unassigned;
``comment`` (a coordinator's plain comment, no transition): its text is in ``note``;
``workflow_move``: an administrator moved the submission to another version of its workflow;
the state is unchanged (``from_state`` = ``to_state``), ``comment`` holds ``"1 → 2"``;
``erased``: the submission's personal data was erased; ``note`` holds the reason."""
OutboxStatus = Literal["pending", "enqueued", "sent", "failed", "cancelled"]
"""``cancelled``: never sent and never will be (its submission's personal data was erased)."""


@dataclass(frozen=True, slots=True)
class DefinitionVersionRecord:
    row_id: int
    kind: DefinitionKind
    definition_id: str
    version: int
    content: str
    content_hash: str
    created_at: datetime
    published_at: datetime | None
    is_current_published: bool


@dataclass(frozen=True, slots=True)
class SubmissionRecord:
    id: str
    reference: str
    form_id: str
    form_version: int
    form_version_row: int
    workflow_id: str
    workflow_version: int
    workflow_version_row: int
    state: str
    version: int
    answers: Mapping[str, Any]
    language: str
    created_at: datetime
    updated_at: datetime
    assigned_to: int | None
    consents: tuple[Mapping[str, Any], ...] = ()
    """One record per ticked consent box: ``field``, ``label`` (the text shown),
    ``language``, ``form_version``, ``at`` (ISO 8601, UTC)."""
    erased_at: datetime | None = None
    """Set once its personal data was erased: the record is a tombstone (no answers)."""


@dataclass(frozen=True, slots=True)
class SavedViewRecord:
    """A coordinator's named inbox filter (``query``: the inbox's query string)."""

    id: int
    user_id: int
    name: str
    query: str


@dataclass(frozen=True, slots=True)
class DraftRecord:
    id: str
    form_id: str
    form_version: int
    form_version_row: int
    answers: Mapping[str, Any]
    step: str | None
    language: str
    created_at: datetime
    updated_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class FileRecord:
    """An uploaded file's facts (its bytes are read chunk by chunk, ``store.files.chunk``)."""

    id: str
    field_id: str
    name: str
    content_type: str
    size: int
    sha256: str
    chunks: int
    draft_id: str | None
    submission_id: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class EventRecord:
    id: int
    submission_id: str
    kind: EventKind
    transition: str | None
    from_state: str | None
    to_state: str | None
    actor: str
    comment: str | None
    """The message to the applicant (for ``assignment``: the assignee's address)."""
    note: str | None
    """Internal, staff only: a transition's note or a plain comment event's text."""
    at: datetime


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One delivery to write as a pending outbox row (``Store.outbox.add_many``):
    for a submission event (``submission_id`` and ``event_id``) or a draft (``draft_id``)."""

    submission_id: str | None
    event_id: int | None
    channel: str
    language: str
    delivery_key: str
    recipient: str | None = None
    role: str | None = None
    url: str | None = None
    secret_env: str | None = None
    template: str | None = None
    draft_id: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    id: int
    submission_id: str | None
    """None for a draft's resume-link mail (then ``draft_id`` is set)."""
    event_id: int | None
    channel: Literal["mail", "webhook"]
    recipient: str | None
    role: str | None
    url: str | None
    secret_env: str | None
    template: str | None
    language: str
    status: OutboxStatus
    attempts: int
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    delivery_key: str
    delivery_id: str
    """The row's random UUID: Redis keys, job ids, ``Message-ID``, ``X-Formflow-Delivery``."""
    draft_id: str | None = None


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    email: str
    roles: tuple[str, ...]
    active: bool
    created_at: datetime
    password_hash: str | None = field(default=None, repr=False)
    session_generation: int = 0
    """Changes whenever the user's sessions must end (logout, password, roles, deactivation)."""
    totp_secret: str | None = field(default=None, repr=False)
    """The confirmed second factor's secret (None: the user has no second factor)."""
    oidc_subject: str | None = None
    """The single sign-on identity linked to the user (``<issuer> <sub>``), if any."""
    local_login: bool = False
    """Break-glass: password sign-in allowed even when local sign-in is switched off."""

    @property
    def has_second_factor(self) -> bool:
        return self.totp_secret is not None


@dataclass(frozen=True, slots=True)
class AccountLinkRecord:
    """A single-use set-password link (``purpose`` ``reset`` or ``invite``); secret not kept."""

    id: int
    user_id: int
    purpose: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class ApiTokenRecord:
    id: int
    user_id: int
    created_at: datetime
    last_used_at: datetime | None
    revoked: bool


@dataclass(frozen=True, slots=True)
class EditorDraftRecord:
    """The administrators' working copy of a definition (see ``engine.services.editing``)."""

    kind: DefinitionKind
    definition_id: str
    content: str
    base_version: int | None
    revision: int
    created_at: datetime
    updated_at: datetime
    updated_by: str | None


@dataclass(frozen=True, slots=True)
class DefinitionHead:
    """One definition in a listing: its newest and its published version numbers."""

    kind: DefinitionKind
    definition_id: str
    latest_version: int
    published_version: int | None
    version_count: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class VersionInfo:
    """A stored version without its content."""

    version: int
    created_at: datetime
    published_at: datetime | None
    is_current_published: bool
    content_hash: str


@dataclass(frozen=True, slots=True)
class InboxFilter:
    """What a coordinator narrowed the list to; ``None`` means "don't filter on this"."""

    form_id: str | None = None
    state: str | None = None
    created_from: datetime | None = None
    """Inclusive lower bound of ``created_at``."""
    created_before: datetime | None = None
    """Exclusive upper bound of ``created_at`` (the day after a "to" date)."""
    text: str | None = None
    assigned_to: int | None = None


@dataclass(frozen=True, slots=True, order=True)
class Position:
    """A place in the newest-first order: the ``(created_at, id)`` of one submission."""

    created_at: datetime
    id: str


@dataclass(frozen=True, slots=True)
class ExportRow:
    """One submission as the export needs it: plain columns, no history."""

    id: str
    reference: str
    form_id: str
    form_version: int
    form_version_row: int
    state: str
    created_at: datetime
    answers: Mapping[str, Any]
    consents: tuple[Mapping[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One administrative action of the audit log (``engine.services.audit``)."""

    id: int
    at: datetime
    actor: str
    action: str
    object_ref: str
    detail: str | None
