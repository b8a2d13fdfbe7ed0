"""formflow's durable home: the only package that imports SQLAlchemy.

Create a :class:`Database` from a URL, call :meth:`Database.upgrade` once (Alembic), then use
``with db.transaction() as store:`` (or ``db.read()``) and the repositories on the
:class:`Store`. Everything handed out is a frozen record from :mod:`engine.storage.records`.
"""

from __future__ import annotations

from engine.storage.database import Database, storage_errors
from engine.storage.drafts import draft_by_token_hash
from engine.storage.editing import EditorDraftRecord
from engine.storage.records import (
    ApiTokenRecord,
    DefinitionKind,
    DefinitionVersionRecord,
    DraftRecord,
    EventKind,
    EventRecord,
    OutboxRecord,
    OutboxStatus,
    SubmissionRecord,
    UserRecord,
)
from engine.storage.store import Store

__all__ = [
    "ApiTokenRecord",
    "Database",
    "DefinitionKind",
    "DefinitionVersionRecord",
    "DraftRecord",
    "EditorDraftRecord",
    "EventKind",
    "EventRecord",
    "OutboxRecord",
    "OutboxStatus",
    "Store",
    "SubmissionRecord",
    "UserRecord",
    "draft_by_token_hash",
    "storage_errors",
]
