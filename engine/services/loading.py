"""Turning stored definition versions into loaded engine objects, once per version.

A stored version is immutable and addressed by its content hash, so the loaded (and compiled)
definition can be kept for the life of the :class:`Database` in ``db.memo``: submitting the
same form a thousand times parses and compiles it once.

Which version is *published* does change (an admin publishes another one, in any process), so
the published version record is cached per (kind, id) but never trusted blindly: every use
checks it against the head row's ``published_version`` with one small statement
(:func:`current_published`), or — for a submission — inside the write transaction itself
(``engine.services.submissions``). A version record is immutable once published, so a cached
record whose number is still the published one is exactly what a fresh read would return.
A reader that may show what was published a moment ago (a page the applicant could as well
have loaded a second earlier) can skip the check while the last one is recent
(:func:`recently_published`); publishing in this process forgets the cached record at once.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from engine.definitions import load_form
from engine.evaluation import CompiledForm, compile_form
from engine.machine import Guard
from engine.model import FormDefinition, WorkflowDefinition
from engine.workflows import CompiledWorkflow, bind_guards, compile_workflow, load_workflow

if TYPE_CHECKING:
    from engine.storage import Database, DefinitionKind, DefinitionVersionRecord, Store


__all__ = [
    "canonical_json",
    "compiled_form",
    "compiled_workflow",
    "confirmed_published",
    "content_hash",
    "current_published",
    "forget_published",
    "form_of",
    "guard_for",
    "known_published",
    "recently_published",
    "remember_published",
    "workflow_of",
]

T = TypeVar("T")


def canonical_json(data: Any) -> str:
    """One spelling per content: sorted keys, no insignificant whitespace, UTF-8 kept."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def content_hash(data: Any) -> str:
    return hashlib.sha256(canonical_json(data).encode("utf-8")).hexdigest()


def _memo(db: Database, key: tuple[str, ...], build: Callable[[], T]) -> T:
    found = db.memo.get(key)
    if found is None:
        found = db.memo[key] = build()
    return found


def form_of(db: Database, record: DefinitionVersionRecord) -> FormDefinition:
    """The stored version loaded as stored (``load_form(stored=True)``): what the engine has
    refused at import only since the version was stored is ignored, not fatal."""
    return _memo(
        db, ("form", record.content_hash),
        lambda: load_form(json.loads(record.content), stored=True),
    )


def compiled_form(db: Database, record: DefinitionVersionRecord) -> CompiledForm:
    return _memo(
        db, ("compiled-form", record.content_hash), lambda: compile_form(form_of(db, record))
    )


def workflow_of(db: Database, record: DefinitionVersionRecord) -> WorkflowDefinition:
    return _memo(
        db, ("workflow", record.content_hash),
        lambda: load_workflow(json.loads(record.content), stored=True),
    )


def compiled_workflow(db: Database, record: DefinitionVersionRecord) -> CompiledWorkflow:
    return _memo(
        db,
        ("compiled-workflow", record.content_hash),
        lambda: compile_workflow(workflow_of(db, record)),
    )


def guard_for(
    db: Database, workflow: DefinitionVersionRecord, form: DefinitionVersionRecord
) -> Guard:
    """The workflow's ``when`` guards bound to the form's field types."""
    return _memo(
        db,
        ("guard", workflow.content_hash, form.content_hash),
        lambda: bind_guards(compiled_workflow(db, workflow), form_of(db, form)),
    )


# -- the published version of a definition, cached with a freshness check -------------------


def _published_key(kind: str, definition_id: str) -> tuple[str, str, str]:
    return ("published", kind, definition_id)


def _checked_key(kind: str, definition_id: str) -> tuple[str, str, str]:
    return ("published-checked", kind, definition_id)


def known_published(
    db: Database, kind: DefinitionKind, definition_id: str
) -> DefinitionVersionRecord | None:
    """The version last seen published, UNCHECKED: the caller must confirm it is still the
    published one (``published_version_numbers``) before relying on it."""
    found: DefinitionVersionRecord | None = db.memo.get(_published_key(kind, definition_id))
    return found


def recently_published(
    db: Database, kind: DefinitionKind, definition_id: str, max_age: float
) -> DefinitionVersionRecord | None:
    """The version confirmed published by :func:`current_published` at most ``max_age``
    seconds ago, or None (then ask :func:`current_published`)."""
    checked: float | None = db.memo.get(_checked_key(kind, definition_id))
    if checked is None or time.monotonic() - checked > max_age:
        return None
    return known_published(db, kind, definition_id)


def remember_published(db: Database, record: DefinitionVersionRecord) -> None:
    db.memo[_published_key(record.kind, record.definition_id)] = record


def forget_published(db: Database, kind: DefinitionKind, definition_id: str) -> None:
    db.memo.pop(_checked_key(kind, definition_id), None)
    db.memo.pop(_published_key(kind, definition_id), None)


def current_published(
    db: Database, store: Store, kind: DefinitionKind, definition_id: str
) -> DefinitionVersionRecord | None:
    """The published version (None: none is), read in ``store``'s transaction.

    One small statement when the cached record is still the published one; otherwise the
    version is read and the cache updated.
    """
    numbers = store.definitions.published_version_numbers([(kind, definition_id)])
    return published_as_numbered(db, store, kind, definition_id, numbers.get((kind, definition_id)))


def published_as_numbered(
    db: Database, store: Store, kind: DefinitionKind, definition_id: str, number: int | None
) -> DefinitionVersionRecord | None:
    """:func:`current_published` for a caller that read the published version ``number``
    itself (None: none is published), in ``store``'s transaction — e.g. with a draft."""
    if number is None:
        forget_published(db, kind, definition_id)
        return None
    cached = confirmed_published(db, kind, definition_id, number)
    if cached is not None:
        return cached
    record = store.definitions.published(kind, definition_id)
    if record is not None:
        remember_published(db, record)
        db.memo[_checked_key(kind, definition_id)] = time.monotonic()
    return record


def confirmed_published(
    db: Database, kind: DefinitionKind, definition_id: str, number: int | None
) -> DefinitionVersionRecord | None:
    """The cached published version if it is version ``number``, which the caller has just
    read as the published one (and so the check is noted, as by :func:`current_published`);
    None when it is not cached or another version (then ask :func:`published_as_numbered`)."""
    cached = known_published(db, kind, definition_id)
    if cached is None or number is None or cached.version != number:
        return None
    db.memo[_checked_key(kind, definition_id)] = time.monotonic()
    return cached
