"""The relational schema as typed SQLAlchemy 2 ORM classes.

This module describes tables only; the schema in a real database is created and changed
exclusively by the Alembic migrations under ``engine/storage/migrations`` (which must match
these classes — a test compares them). Nothing here connects or holds a session.

Portability (SQLite and PostgreSQL): JSON columns use the generic ``JSON`` type, timestamps
go through :class:`UTCDateTime` so both backends hand back timezone-aware UTC datetimes, and
constraint names follow one naming convention so migrations can address them by name.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AccountLinkRow",
    "ApiTokenRow",
    "AuditRow",
    "Base",
    "DefinitionRow",
    "DefinitionVersionRow",
    "DraftRow",
    "EditorDraftRow",
    "EventRow",
    "FileChunkRow",
    "FileRow",
    "OutboxRow",
    "SavedViewRow",
    "RecoveryCodeRow",
    "ReferenceCounterRow",
    "SubmissionRow",
    "UTCDateTime",
    "UserRow",
]

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend.

    SQLite has no timezone type and returns naive values; storing UTC and re-attaching the
    zone on the way out keeps comparisons (draft expiry) correct whichever backend runs.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: dict[Any, Any] = {datetime: UTCDateTime}


class DefinitionRow(Base):
    """A form or workflow by id; which of its versions is published right now."""

    __tablename__ = "definitions"
    __table_args__ = (CheckConstraint("kind IN ('form', 'workflow')", name="kind"),)

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    published_version: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class DefinitionVersionRow(Base):
    """One immutable, numbered version of a definition (never updated except ``published_at``)."""

    __tablename__ = "definition_versions"
    __table_args__ = (
        UniqueConstraint("kind", "definition_id", "version"),
        ForeignKeyConstraint(
            ["kind", "definition_id"], ["definitions.kind", "definitions.definition_id"]
        ),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    definition_id: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    content: Mapped[str] = mapped_column(Text)
    """The definition as JSON text, exactly the data that was imported (key order kept)."""
    content_hash: Mapped[str] = mapped_column(String(64))
    """sha256 hex of the canonical JSON (sorted keys, no whitespace): equal content, equal hash."""
    created_at: Mapped[datetime]
    published_at: Mapped[datetime | None]


class ReferenceCounterRow(Base):
    """The last human reference number handed out per (prefix, year)."""

    __tablename__ = "reference_counters"

    prefix: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    roles: Mapped[list[str]] = mapped_column(JSON)
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    session_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Part of every sign-in's session id: raising it ends all of the user's sessions."""
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    """The base32 secret of the user's second factor once confirmed (None: no second factor)."""
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    """The 30-second step of the last accepted code: a code is accepted once, never replayed."""
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    """``<issuer> <sub>`` of the single sign-on identity linked to this user."""
    local_login: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    """Break-glass: may sign in with a password even when FORMFLOW_LOCAL_LOGIN is false."""


class AccountLinkRow(Base):
    """A single-use link that lets a user set a password: a reset or an invitation.

    Only the sha256 digest of the link's secret is stored; ``used_at`` is set when it is used
    (or when a newer link of the same user replaces it)."""

    __tablename__ = "account_links"
    __table_args__ = (CheckConstraint("purpose IN ('reset', 'invite')", name="purpose"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class RecoveryCodeRow(Base):
    """One single-use recovery code of a user's second factor (sha256 digest only)."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]


class SavedViewRow(Base):
    """A coordinator's named inbox filter: the query string of the inbox as it was saved."""

    __tablename__ = "saved_views"
    __table_args__ = (UniqueConstraint("user_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime]


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class SubmissionRow(Base):
    """A submitted form, pinned forever to the form and workflow versions it was made with."""

    __tablename__ = "submissions"
    __table_args__ = (
        Index(None, "form_id", "created_at"),
        # The coordinators' inbox (engine/storage/inbox.py, migration 0002): newest-first
        # keyset pages overall, within a state and within one coordinator's assignments.
        # The state and assignee filters (and counts per state) use the leading columns of
        # the last two; no index of ``state`` or ``assigned_to`` alone (dropped in 0007: an
        # index entry less to write per submission). Only assigned submissions are indexed
        # by assignee — new ones are unassigned, and every query asks for one assignee.
        Index(None, "created_at", "id"),
        Index(None, "state", "created_at", "id"),
        Index(
            None, "assigned_to", "created_at", "id",
            sqlite_where=text("assigned_to IS NOT NULL"),
            postgresql_where=text("assigned_to IS NOT NULL"),
        ),
        Index(None, "form_id", "state"),  # counts per state of one form (migration 0004)
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    form_id: Mapped[str] = mapped_column(String(64))
    form_version_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"))
    workflow_version_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"))
    state: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    """Optimistic-concurrency counter: every state change is ``UPDATE … WHERE version = ?``."""
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    language: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    consents: Mapped[list[dict[str, Any]]] = mapped_column(
        JSON, default=list, server_default=text("'[]'")
    )
    """The consent records of ticked ``"consent": true`` boxes: field, label shown, language,
    form version, time (migration 0014). No personal data: kept after an erasure."""
    erased_at: Mapped[datetime | None]
    """When its personal data was erased (migration 0014); the row is then a tombstone."""


class DraftRow(Base):
    __tablename__ = "drafts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    form_id: Mapped[str] = mapped_column(String(64))
    form_version_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    step: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    expires_at: Mapped[datetime] = mapped_column(index=True)


class FileRow(Base):
    """An uploaded file, owned by exactly one draft or one submission (deleted with it: the
    foreign keys cascade). Its bytes are ``FileChunkRow`` rows."""

    __tablename__ = "files"
    __table_args__ = (
        CheckConstraint("(draft_id IS NULL) <> (submission_id IS NULL)", name="one_owner"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    draft_id: Mapped[str | None] = mapped_column(
        ForeignKey("drafts.id", ondelete="CASCADE"), index=True)
    submission_id: Mapped[str | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    field_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]


class FileChunkRow(Base):
    """Up to ``engine.files.CHUNK_SIZE`` bytes of a file, in order of ``seq`` from 0."""

    __tablename__ = "file_chunks"

    file_id: Mapped[str] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class EditorDraftRow(Base):
    """The working copy of one form or workflow in the administrators' editor."""

    __tablename__ = "editor_drafts"
    __table_args__ = (CheckConstraint("kind IN ('form', 'workflow')", name="kind"),)

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    definition_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    content: Mapped[str] = mapped_column(Text)
    """The draft's JSON text (any JSON: drafts may be unfinished)."""
    base_version: Mapped[int | None] = mapped_column(Integer)
    """The stored version the draft was started from; None for a brand-new definition."""
    revision: Mapped[int] = mapped_column(Integer)
    """1 on the first save, +1 on each later one: the optimistic-concurrency counter."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(String(254))


class EventRow(Base):
    """The append-only audit trail of a submission: rows are inserted, never changed."""

    __tablename__ = "events"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('created', 'transition', 'comment', 'assignment', 'workflow_move', "
            "'erased')",
            name="kind",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    transition: Mapped[str | None] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(254))
    comment: Mapped[str | None] = mapped_column(Text)
    """The message to the applicant (a transition's; the assignee's address for
    ``assignment``); the applicant's status page, API view and mails may show it."""
    note: Mapped[str | None] = mapped_column(Text)
    """Internal text for staff only (a transition's note, a plain ``comment`` event's text);
    never shown to the applicant (migration 0013)."""
    at: Mapped[datetime]


class OutboxRow(Base):
    """A notification owed because of an event, written in the event's own transaction.

    Workers move it pending → enqueued → sent (or failed), addressing it by ``delivery_id``;
    ``delivery_key`` is unique so a relay or a retry can never create a second row for the
    same delivery. A row belongs to a
    submission event or, for the mail carrying a resume link, to a draft (deleted with it:
    once the draft is submitted or expired, its link opens nothing worth mailing).

    The key's uniqueness is kept per submission (migration 0008): a submission's key is the
    sha256 of its event's id and the delivery, so a repeated key can only come from the same
    submission, and one index on ``(submission_id, delivery_key)`` checks it while also
    finding a submission's rows — one random-key index entry per row instead of two. A
    draft's rows (no submission) have their keys unique in a partial index of their own.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        CheckConstraint("channel IN ('mail', 'webhook')", name="channel"),
        CheckConstraint(
            "status IN ('pending', 'enqueued', 'sent', 'failed', 'cancelled')", name="status"
        ),
        CheckConstraint(
            "(submission_id IS NOT NULL AND event_id IS NOT NULL) OR draft_id IS NOT NULL",
            name="subject",
        ),
        Index(None, "status", "created_at"),
        # A submission's rows (``submission_id = ?``, the foreign key's cascade) and the
        # uniqueness of their delivery keys, in one index (migration 0008).
        Index(None, "submission_id", "delivery_key", unique=True),
        # Rows of a draft only: a submission's rows have no draft and add no entry. Deleting
        # a draft finds its rows by ``draft_id`` (migration 0007); a draft's keys are unique
        # and looked up here (0008).
        Index(
            None, "delivery_key", unique=True,
            sqlite_where=text("draft_id IS NOT NULL"),
            postgresql_where=text("draft_id IS NOT NULL"),
        ),
        Index(
            None, "draft_id",
            sqlite_where=text("draft_id IS NOT NULL"),
            postgresql_where=text("draft_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE")
    )
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    draft_id: Mapped[str | None] = mapped_column(ForeignKey("drafts.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    recipient: Mapped[str | None] = mapped_column(String(254))
    """The mail address (for ``mail``); None for webhooks."""
    role: Mapped[str | None] = mapped_column(String(64))
    """Why this recipient: ``applicant``, a role name, or None for a literal address/webhook."""
    url: Mapped[str | None] = mapped_column(Text)
    secret_env: Mapped[str | None] = mapped_column(String(128))
    template: Mapped[str | None] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    delivery_key: Mapped[str] = mapped_column(String(64))
    """Unique (per submission; a draft's among drafts' rows): see the class docstring."""
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)
    """A random UUID given at insert (migration 0009): what Redis keys, RQ job ids, the
    ``Message-ID`` and ``X-Formflow-Delivery`` are made of. Unlike the integer id or the
    event's id it never repeats — not after a database restore, not in another installation
    sharing the Redis."""


class AuditRow(Base):
    """One administrative action (migration 0014): inserted, never changed; rows older than
    ``FORMFLOW_AUDIT_DAYS`` are deleted by the purge. Never holds applicants' personal data:
    ``object_ref`` names a definition, a user, a token id or a submission's reference."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(254))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_ref: Mapped[str] = mapped_column(String(300))
    detail: Mapped[str | None] = mapped_column(Text)
