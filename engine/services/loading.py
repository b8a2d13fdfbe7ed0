"""Turning stored definition versions into loaded engine objects, once per content.

A stored version is immutable and addressed by its content hash, so the loaded (and compiled)
definition is kept for the life of the :class:`Database` in ``db.memo``, keyed by that hash:
submitting the same form a thousand times parses and compiles it once. Which version is
published is always read from the database, in the caller's transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from engine.definitions import load_form
from engine.evaluation import CompiledForm, compile_form
from engine.machine import Guard
from engine.model import FormDefinition, WorkflowDefinition
from engine.workflows import CompiledWorkflow, bind_guards, compile_workflow, load_workflow

if TYPE_CHECKING:
    from engine.records import DefinitionVersionRecord
    from engine.storage import Database


__all__ = [
    "canonical_json",
    "compiled_form",
    "compiled_workflow",
    "content_hash",
    "form_of",
    "guard_for",
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
