"""The administrators' editor: working drafts, checking, publishing, history and diffs.

An administrator never edits a stored version — versions are immutable, and submissions keep
the one they were made with. They edit a *working draft* (``engine.storage.editing``) that is
saved explicitly or by autosave, may be unfinished, and becomes the next numbered version only
when published. Publishing goes through the same services as ``formflow forms publish``
(``import_definition`` + ``publish_definition``), so the editor cannot store anything the
command line would refuse.

Concurrency between administrators is optimistic: every draft has a ``revision``; a save or
publish names the revision it has seen, and :class:`DraftConflict` tells the second of two
editors that someone else saved in between (instead of silently overwriting their work).

Checking a draft (:func:`check_draft`) reports everything publishing would refuse, not only
what ``check_form``/``check_workflow`` see: a changed id, a form whose workflow is not
published or whose guards do not fit its fields, a workflow whose guards do not fit a
published form that uses it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from engine.definitions import check_form, load_form
from engine.diff import Change, diff_definitions
from engine.exceptions import AlreadyExists, DefinitionError, FormflowError, InvalidInput, NotFound
from engine.jsondata import parse_json
from engine.problems import Problem, errors_only
from engine.services.definitions import (
    export_definition,
    import_definition,
    list_published,
    publish_definition,
    published_workflow,
)
from engine.services.loading import content_hash, form_of
from engine.services.users import users_with_role
from engine.text import Text, to_text
from engine.workflows import (
    check_guards_against_form,
    check_roles_held,
    check_workflow,
    load_workflow,
)

if TYPE_CHECKING:
    from engine.model import WorkflowDefinition
    from engine.records import DefinitionKind, EditorDraftRecord, VersionInfo
    from engine.storage import Database


__all__ = [
    "KINDS",
    "DefinitionListing",
    "DraftConflict",
    "EditorDraft",
    "PublishOutcome",
    "check_draft",
    "definition_listings",
    "discard_editor_draft",
    "draft_changes",
    "editor_draft",
    "import_upload",
    "new_editor_draft",
    "proposed_id",
    "problems_as_json",
    "publish_editor_draft",
    "save_editor_draft",
    "skeleton",
    "version_changes",
    "version_history",
]

KINDS: tuple[DefinitionKind, ...] = ("form", "workflow")
_DEFINITION_ID = re.compile(r"^[a-z][a-z0-9_-]{0,63}$")
MAX_DRAFT_BYTES = 2 * 1024 * 1024
"""A draft larger than this is refused: no real form comes near it."""


class DraftConflict(FormflowError):
    """Someone else saved the draft since this editor loaded it; ``current`` is theirs."""

    code = "draft_conflict"

    def __init__(self, current: EditorDraft | None) -> None:
        self.current = current
        who = f" by {current.updated_by}" if current and current.updated_by else ""
        super().__init__(f"the draft was changed{who} in the meantime; reload it to see "
                         "their changes")


@dataclass(frozen=True, slots=True)
class EditorDraft:
    """What the editor shows: the saved working draft, or the newest version as a start."""

    kind: DefinitionKind
    definition_id: str
    data: Any
    base_version: int | None
    """The stored version the draft started from (None: a definition not stored yet)."""
    revision: int
    """0 when nothing is saved yet (the data is a copy of ``base_version``)."""
    updated_at: datetime | None = None
    updated_by: str | None = None

    @property
    def saved(self) -> bool:
        return self.revision > 0

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "id": self.definition_id,
            "definition": self.data,
            "base_version": self.base_version,
            "revision": self.revision,
            "saved": self.saved,
            "updated_at": self.updated_at.isoformat() if self.updated_at else None,
            "updated_by": self.updated_by,
        }


@dataclass(frozen=True, slots=True)
class DefinitionListing:
    """One row of the definitions page."""

    kind: DefinitionKind
    definition_id: str
    title: Text
    latest_version: int | None
    published_version: int | None
    version_count: int
    draft_revision: int | None = None
    draft_updated_at: datetime | None = None
    draft_updated_by: str | None = None

    @property
    def has_draft(self) -> bool:
        return self.draft_revision is not None


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    kind: DefinitionKind
    definition_id: str
    version: int
    created: bool
    """False when the draft equalled the newest version: that one was published instead."""
    warnings: tuple[Problem, ...] = ()
    changes: tuple[Change, ...] = field(default_factory=tuple)
    """What changed against the version published before (empty for the first)."""


def _check_kind(kind: str) -> DefinitionKind:
    for known in KINDS:
        if kind == known:
            return known
    raise InvalidInput("kind", f"kind must be 'form' or 'workflow', not {kind!r}")


def _from_record(record: EditorDraftRecord) -> EditorDraft:
    return EditorDraft(
        kind=record.kind, definition_id=record.definition_id, data=json.loads(record.content),
        base_version=record.base_version, revision=record.revision,
        updated_at=record.updated_at, updated_by=record.updated_by,
    )


# -- listing and history ----------------------------------------------------------------------


def definition_listings(db: Database, kind: str) -> list[DefinitionListing]:
    """Every form (or workflow): stored ones and drafts of new ones, by id."""
    kind = _check_kind(kind)
    with db.read() as store:
        editing = store.editing
        heads = editing.heads(kind)
        drafts = {d.definition_id: d for d in editing.drafts(kind)}
        titles: dict[str, Text] = {}
        for head in heads:
            shown = head.published_version or head.latest_version
            record = store.definitions.get(kind, head.definition_id, shown)
            titles[head.definition_id] = _title_of(record.content if record else None)
    listings = []
    for head in heads:
        draft = drafts.pop(head.definition_id, None)
        listings.append(DefinitionListing(
            kind, head.definition_id, titles[head.definition_id], head.latest_version,
            head.published_version, head.version_count,
            draft.revision if draft else None, draft.updated_at if draft else None,
            draft.updated_by if draft else None,
        ))
    for draft in drafts.values():  # drafts of definitions never stored yet
        listings.append(DefinitionListing(
            kind, draft.definition_id, _title_of(draft.content), None, None, 0,
            draft.revision, draft.updated_at, draft.updated_by,
        ))
    return sorted(listings, key=lambda item: item.definition_id)


def _title_of(content: str | None) -> Text:
    try:
        data = json.loads(content) if content else None
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    try:
        return to_text(data.get("title"))
    except (AttributeError, TypeError):
        return {}


def version_history(db: Database, kind: str, definition_id: str) -> list[VersionInfo]:
    """The stored versions, oldest first (``NotFound`` when there are none)."""
    kind = _check_kind(kind)
    with db.read() as store:
        versions = store.editing.versions(kind, definition_id)
    if not versions:
        raise NotFound(f"there is no {kind} {definition_id!r}")
    return versions


def version_changes(
    db: Database, kind: str, definition_id: str, old_version: int, new_version: int,
    language: str = "de",
) -> list[Change]:
    """What changed from ``old_version`` to ``new_version``, in words (``engine.diff``)."""
    kind = _check_kind(kind)
    old = export_definition(db, kind, definition_id, old_version)
    new = export_definition(db, kind, definition_id, new_version)
    return diff_definitions(kind, old, new, language)


def draft_changes(
    db: Database, kind: str, definition_id: str, data: Any, language: str = "de"
) -> list[Change]:
    """What publishing ``data`` would change against the published (else newest) version."""
    kind = _check_kind(kind)
    with db.read() as store:
        record = (store.definitions.published(kind, definition_id)
                  or store.definitions.latest(kind, definition_id))
    old = json.loads(record.content) if record is not None else {}
    return diff_definitions(kind, old, data, language)


# -- drafts -----------------------------------------------------------------------------------


def editor_draft(db: Database, kind: str, definition_id: str) -> EditorDraft:
    """The saved draft, else the newest stored version as an unsaved start (revision 0).

    ``NotFound`` when there is neither.
    """
    kind = _check_kind(kind)
    with db.read() as store:
        saved = store.editing.draft(kind, definition_id)
        latest = None if saved else store.definitions.latest(kind, definition_id)
    if saved is not None:
        return _from_record(saved)
    if latest is None:
        raise NotFound(f"there is no {kind} {definition_id!r}")
    return EditorDraft(kind, definition_id, json.loads(latest.content), latest.version, 0)


def skeleton(kind: str, definition_id: str, workflow_id: str = "review") -> dict[str, Any]:
    """The smallest valid definition to start a new form or workflow from (German texts)."""
    kind = _check_kind(kind)
    if kind == "form":
        return {
            "id": definition_id,
            "title": {"de": "Neues Formular"},
            "languages": ["de"],
            "workflow": workflow_id,
            "steps": [{
                "id": "step_1",
                "title": {"de": "Schritt 1"},
                "fields": [{"id": "name", "type": "text", "label": {"de": "Name"},
                            "required": True}],
            }],
            "rules": [],
        }
    return {
        "id": definition_id,
        "title": {"de": "Neuer Workflow"},
        "initial": "submitted",
        "states": [
            {"id": "submitted", "label": {"de": "Eingegangen"}},
            {"id": "done", "label": {"de": "Erledigt"}, "final": True},
        ],
        "transitions": [
            {"id": "finish", "from": "submitted", "to": "done", "roles": ["coordinator"],
             "label": {"de": "Abschließen"}},
        ],
    }


_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss",
                          "Ä": "ae", "Ö": "oe", "Ü": "ue"})


def proposed_id(title: str) -> str:
    """An id made from a title: ``Förderantrag 2027`` → ``foerderantrag-2027``.

    ä/ö/ü/ß become ae/oe/ue/ss, letters are lowercased, every other run of characters that is
    not a-z or 0-9 becomes one ``-``; an id must start with a letter (``form-`` is put first
    otherwise) and is at most 64 characters. Empty when the title has no letter or digit.
    """
    words = re.sub(r"[^a-z0-9]+", "-", title.translate(_UMLAUTS).lower()).strip("-")
    if not words:
        return ""
    if not words[0].isalpha():
        words = "form-" + words
    return words[:64].rstrip("-")


def new_editor_draft(
    db: Database, kind: str, definition_id: str, *, actor: str, title: str | None = None
) -> EditorDraft:
    """Start a new definition as a saved draft; ``AlreadyExists`` when the id is taken.

    ``title``: the new definition's German title (else a placeholder title).
    """
    kind = _check_kind(kind)
    definition_id = (definition_id or "").strip()
    if not _DEFINITION_ID.match(definition_id):
        raise InvalidInput("id", "an id starts with a lowercase letter, followed by up to 63 "
                                 "lowercase letters, digits, '_' or '-'")
    workflow_id = "review"
    if kind == "form":
        published = list_published(db, "workflow")
        if published and not any(r.definition_id == "review" for r in published):
            workflow_id = published[0].definition_id
    data = skeleton(kind, definition_id, workflow_id)
    if title and title.strip():
        data["title"] = {"de": title.strip()}
    with db.transaction() as store:
        if store.definitions.latest(kind, definition_id) is not None:
            raise AlreadyExists(f"there is already a {kind} {definition_id!r}")
        record = store.editing.save_draft(
            kind, definition_id, content=_dump(data), base_version=None, updated_by=actor,
            expected_revision=0,
        )
    if record is None:
        raise AlreadyExists(f"there is already a draft of {kind} {definition_id!r}")
    return _from_record(record)


def _dump(data: Any) -> str:
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if len(text.encode("utf-8")) > MAX_DRAFT_BYTES:
        raise InvalidInput("definition", "the definition is too large to be saved")
    return text


def save_editor_draft(
    db: Database, kind: str, definition_id: str, data: Any, *, actor: str | None,
    expected_revision: int | None,
) -> EditorDraft:
    """Store ``data`` (any JSON: drafts may be unfinished) as the working draft.

    ``expected_revision`` is the revision the editor loaded (0: none saved yet); when the
    stored draft has moved on, nothing is written and :class:`DraftConflict` carries the
    current one. ``NotFound`` when the definition exists neither as version nor as draft.
    """
    kind = _check_kind(kind)
    content = _dump(data)
    with db.transaction() as store:
        editing = store.editing
        current = editing.draft(kind, definition_id)
        if current is not None:
            base = current.base_version
        else:
            latest = store.definitions.latest(kind, definition_id)
            if latest is None:
                raise NotFound(f"there is no {kind} {definition_id!r}")
            base = latest.version
        record = editing.save_draft(
            kind, definition_id, content=content, base_version=base, updated_by=actor,
            expected_revision=expected_revision,
        )
        if record is None:
            latest_draft = editing.draft(kind, definition_id)
    if record is None:
        raise DraftConflict(_from_record(latest_draft) if latest_draft else None)
    return _from_record(record)


def discard_editor_draft(db: Database, kind: str, definition_id: str) -> bool:
    """Throw the working draft away (the stored versions stay as they are)."""
    kind = _check_kind(kind)
    with db.transaction() as store:
        return store.editing.delete_draft(kind, definition_id)


# -- checking and publishing ------------------------------------------------------------------


def check_draft(db: Database | None, kind: str, definition_id: str, data: Any) -> list[Problem]:
    """Every problem publishing ``data`` as ``definition_id`` would meet: errors, then warnings.

    Beyond the definition's own checks: the id must stay the same, and (with ``db``) a form's
    workflow must be published and its guards must fit the form's fields; a workflow's guards
    must fit every published form that uses it.
    """
    kind = _check_kind(kind)
    problems = check_form(data) if kind == "form" else check_workflow(data)
    if isinstance(data, dict) and isinstance(data.get("id"), str) \
            and data["id"] != definition_id:
        problems.insert(0, Problem("/id", f"the id must stay {definition_id!r}; to make a new "
                                          "definition, create or import it"))
    if db is None or errors_only(problems):
        return _ordered(problems)
    problems += _binding_problems(db, kind, data)
    return _ordered(problems)


def _ordered(problems: Sequence[Problem]) -> list[Problem]:
    return errors_only(list(problems)) + [p for p in problems if p.severity != "error"]


def _binding_problems(db: Database, kind: DefinitionKind, data: Any) -> list[Problem]:
    if kind == "form":
        form = load_form(data)
        try:
            _record, workflow = published_workflow(db, form.workflow)
        except NotFound:
            return [Problem("/workflow", f"workflow {form.workflow!r} is not published: "
                                         "publish it first")]
        return [
            Problem("/workflow", f"workflow {form.workflow!r}: {p.format()}")
            for p in errors_only(check_guards_against_form(workflow, form))
        ]
    workflow = load_workflow(data)
    problems = []
    for record in list_published(db, "form"):
        published = form_of(db, record)
        if published.workflow != workflow.id:
            continue
        for problem in errors_only(check_guards_against_form(workflow, published)):
            problems.append(Problem(problem.pointer,
                                    f"{problem.message} (form {published.id!r})"))
    return problems + check_roles_held(workflow, _roles_held(db, workflow))


def _roles_held(db: Database, workflow: WorkflowDefinition) -> set[str]:
    """Which of the workflow's roles at least one active staff account holds."""
    named = {role for t in workflow.transitions for role in t.roles}
    return {role for role in named if any(u.active for u in users_with_role(db, role))}


def publish_editor_draft(
    db: Database, kind: str, definition_id: str, *, expected_revision: int | None = None,
    language: str = "de", actor: str | None = None,
) -> PublishOutcome:
    """Publish the saved working draft as the next version, then discard the draft.

    Raises ``DefinitionError`` with every problem when it cannot be published (nothing is
    stored), :class:`DraftConflict` when ``expected_revision`` is not the saved one, and
    ``NotFound`` when there is no saved draft.
    """
    kind = _check_kind(kind)
    with db.read() as store:
        record = store.editing.draft(kind, definition_id)
        before = (store.definitions.published(kind, definition_id)
                  or store.definitions.latest(kind, definition_id))
    if record is None:
        raise NotFound(f"there is no saved draft of {kind} {definition_id!r}")
    draft = _from_record(record)
    if expected_revision is not None and draft.revision != expected_revision:
        raise DraftConflict(draft)
    problems = check_draft(db, kind, definition_id, draft.data)
    errors = errors_only(problems)
    if errors:
        raise DefinitionError(errors)
    imported = import_definition(db, draft.data, kind, actor=actor)
    publish_definition(db, kind, definition_id, imported.version, actor=actor)
    with db.transaction() as store:
        store.editing.delete_draft(kind, definition_id, draft.revision)
    changes: tuple[Change, ...] = ()
    if before is not None and before.content_hash != content_hash(draft.data):
        changes = tuple(diff_definitions(kind, json.loads(before.content), draft.data, language))
    return PublishOutcome(
        kind, definition_id, imported.version, imported.created,
        tuple(p for p in problems if p.severity != "error"), changes,
    )


def import_upload(
    db: Database, kind: str, raw: bytes | str, *, publish: bool = True, language: str = "de",
    actor: str | None = None,
) -> PublishOutcome:
    """Import an uploaded JSON file as the next version, and publish it unless told not to.

    Refused as a whole when anything is wrong: ``DefinitionError`` lists every problem (an
    unreadable file is one problem at ``/``) and nothing is stored. With ``publish`` the checks
    include what publishing needs (the form's workflow is published, guards fit), so a file
    is never stored half-way: imported but not publishable.
    """
    kind = _check_kind(kind)
    data = parse_json(raw)
    problems = check_form(data) if kind == "form" else check_workflow(data)
    if publish and not errors_only(problems):
        problems += _binding_problems(db, kind, data)
    errors = errors_only(problems)
    if errors:
        raise DefinitionError(errors)
    definition_id = str(data["id"])
    with db.read() as store:
        before = (store.definitions.published(kind, definition_id)
                  or store.definitions.latest(kind, definition_id))
    imported = import_definition(db, data, kind, actor=actor)
    if publish:
        publish_definition(db, kind, definition_id, imported.version, actor=actor)
    changes: tuple[Change, ...] = ()
    if before is not None and before.content_hash != content_hash(data):
        changes = tuple(diff_definitions(kind, json.loads(before.content), data, language))
    return PublishOutcome(
        kind, definition_id, imported.version, imported.created,
        tuple(p for p in problems if p.severity != "error"), changes,
    )


def problems_as_json(problems: Sequence[Problem]) -> list[Mapping[str, str]]:
    """Problems for the editor's JSON endpoints (pointer, message, severity)."""
    return [p.as_json() for p in problems]
