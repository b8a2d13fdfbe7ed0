"""Definitions in and out of the database: import (versioning), publish, export.

Importing validates the whole definition first and stores nothing when it is refused
(``DefinitionError`` lists every problem). Unchanged content — equal canonical JSON — creates no
new version, so ``formflow init`` can run on every start. Publishing a form binds it to the
published version of its workflow and checks the workflow's guards against its fields;
publishing a workflow checks its guards against every published form that uses it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from engine.definitions import check_form, load_form
from engine.exceptions import DefinitionError, NotFound
from engine.jsondata import parse_json
from engine.model import FormDefinition, WorkflowDefinition
from engine.problems import Problem, errors_only
from engine.services.audit import record_admin_action
from engine.services.loading import content_hash, form_of, workflow_of
from engine.workflows import check_guards_against_form, check_workflow, load_workflow

if TYPE_CHECKING:
    from engine.records import DefinitionKind, DefinitionVersionRecord
    from engine.storage import Database, Store


__all__ = [
    "DefinitionImported",
    "FileImported",
    "export_definition",
    "import_definition",
    "import_directory",
    "list_published",
    "publish_definition",
    "publish_form",
    "publish_workflow",
    "published_form",
    "published_workflow",
]

KINDS: tuple[DefinitionKind, ...] = ("form", "workflow")


@dataclass(frozen=True, slots=True)
class DefinitionImported:
    kind: DefinitionKind
    id: str
    version: int
    created: bool
    """False when the content equals the newest stored version (nothing was written)."""
    published: bool = False
    """True when this version is the published one (after ``import_directory``/``publish``)."""
    warnings: tuple[Problem, ...] = ()


@dataclass(frozen=True, slots=True)
class FileImported:
    """One file of ``import_directory``: either ``result`` or ``problems`` (it was refused)."""

    path: Path
    kind: DefinitionKind
    result: DefinitionImported | None = None
    problems: tuple[Problem, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return self.result is not None and not errors_only(list(self.problems))


def import_definition(
    db: Database, data: Any, kind: DefinitionKind, *, actor: str | None = None
) -> DefinitionImported:
    """Validate and store ``data`` as the next version of its definition (not yet published).

    ``actor``: who did it, for the audit log (``engine.services.audit``); a new version is
    recorded there as ``import``."""
    definition_id, warnings = _validate(data, kind)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    digest = content_hash(data)
    with db.transaction() as store:
        latest = store.definitions.latest(kind, definition_id)
        if latest is not None and latest.content_hash == digest:
            return DefinitionImported(
                kind, definition_id, latest.version, created=False,
                published=latest.is_current_published, warnings=warnings,
            )
        added = store.definitions.add_version(kind, definition_id, text, digest)
        if actor is not None:
            record_admin_action(store, actor, "import", f"{kind} {definition_id} v{added.version}")
    return DefinitionImported(kind, definition_id, added.version, created=True, warnings=warnings)


def publish_form(
    db: Database, form_id: str, version: int | None = None, *, actor: str | None = None
) -> DefinitionImported:
    return publish_definition(db, "form", form_id, version, actor=actor)


def publish_workflow(
    db: Database, workflow_id: str, version: int | None = None, *, actor: str | None = None
) -> DefinitionImported:
    return publish_definition(db, "workflow", workflow_id, version, actor=actor)


def publish_definition(
    db: Database, kind: DefinitionKind, definition_id: str, version: int | None = None,
    *, actor: str | None = None,
) -> DefinitionImported:
    """Make ``version`` (default: the newest) the published one, after checking it fits.

    Raises ``NotFound`` for an unknown id/version and ``DefinitionError`` when the form's
    workflow is not published or a guard does not fit a form's fields.
    """
    _check_kind(kind)
    with db.transaction() as store:
        record = _version(store, kind, definition_id, version)
        # Stored versions load leniently (``form_of``); publishing checks as strictly as an
        # import, so a version stored before a check was tightened is not published again.
        _validate(json.loads(record.content), kind)
        if kind == "form":
            _check_form_binding(db, store, record)
        else:
            _check_workflow_binding(db, store, record)
        store.definitions.publish(kind, definition_id, record.version)
        if actor is not None:
            record_admin_action(store, actor, "publish",
                                f"{kind} {definition_id} v{record.version}")
    return DefinitionImported(kind, definition_id, record.version, created=False, published=True)


def export_definition(
    db: Database, kind: DefinitionKind, definition_id: str, version: int | None = None
) -> dict[str, Any]:
    """The definition as it was imported (key order kept); default: the newest version."""
    _check_kind(kind)
    with db.read() as store:
        record = _version(store, kind, definition_id, version)
    return cast(dict[str, Any], json.loads(record.content))


def list_published(db: Database, kind: DefinitionKind) -> list[DefinitionVersionRecord]:
    _check_kind(kind)
    with db.read() as store:
        return store.definitions.all_published(kind)


def published_form(db: Database, form_id: str) -> tuple[DefinitionVersionRecord, FormDefinition]:
    """The published form's version record and its loaded ``FormDefinition``; ``NotFound``."""
    with db.read() as store:
        record = store.definitions.published("form", form_id)
    if record is None:
        raise NotFound(f"there is no published form {form_id!r}")
    return record, form_of(db, record)


def form_version_by_hash(db: Database, form_id: str, content_hash: str) -> DefinitionVersionRecord:
    """The version of form ``form_id`` whose content has ``content_hash``; ``NotFound``.

    For what a page rendered moments ago still refers to after a newer version was published
    (the browser's copy of the definition is addressed by its hash, see ``web.applicant``).
    """
    with db.read() as store:
        versions = store.definitions.versions("form", form_id)
    for record in versions:
        if record.content_hash == content_hash:
            return record
    raise NotFound(f"form {form_id!r} has no version with that content")


def published_workflow(
    db: Database, workflow_id: str
) -> tuple[DefinitionVersionRecord, WorkflowDefinition]:
    with db.read() as store:
        record = store.definitions.published("workflow", workflow_id)
    if record is None:
        raise NotFound(f"there is no published workflow {workflow_id!r}")
    return record, workflow_of(db, record)


def import_directory(
    db: Database, forms_dir: Path | str | None, workflows_dir: Path | str | None,
    *, actor: str | None = None,
) -> list[FileImported]:
    """Import every ``*.json`` file and publish each one whose content changed.

    Files are independent: one refused file does not stop the others (check ``.ok``).
    Publishing repeats until nothing more can be published, so a workflow whose new guard
    reads a field that only the new version of its form has still goes through.
    """
    outcomes: dict[Path, FileImported] = {}
    for kind, folder in (("workflow", workflows_dir), ("form", forms_dir)):
        for path in _json_files(folder):
            outcomes[path] = _import_file(db, path, cast("DefinitionKind", kind), actor)
    pending = [o for o in outcomes.values() if o.result is not None and not o.result.published]
    while pending:
        still_pending: list[FileImported] = []
        for outcome in pending:
            assert outcome.result is not None
            try:
                publish_definition(db, outcome.kind, outcome.result.id, outcome.result.version,
                                   actor=actor)
            except DefinitionError as exc:
                still_pending.append(
                    FileImported(outcome.path, outcome.kind, outcome.result, exc.problems)
                )
            else:
                outcomes[outcome.path] = FileImported(
                    outcome.path, outcome.kind,
                    _with_published(outcome.result), outcome.result.warnings,
                )
        if len(still_pending) == len(pending):
            for outcome in still_pending:
                outcomes[outcome.path] = outcome
            break
        pending = [
            FileImported(o.path, o.kind, o.result) for o in still_pending
        ]
    return list(outcomes.values())


# -- helpers --------------------------------------------------------------------------------


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be 'form' or 'workflow', not {kind!r}")


def _validate(data: Any, kind: DefinitionKind) -> tuple[str, tuple[Problem, ...]]:
    _check_kind(kind)
    problems = check_form(data) if kind == "form" else check_workflow(data)
    errors = errors_only(problems)
    if errors:
        raise DefinitionError(errors)
    loaded = load_form(data) if kind == "form" else load_workflow(data)
    return loaded.id, tuple(p for p in problems if p.severity == "warning")


def _version(
    store: Store, kind: DefinitionKind, definition_id: str, version: int | None
) -> DefinitionVersionRecord:
    if version is None:
        record = store.definitions.latest(kind, definition_id)
    else:
        record = store.definitions.get(kind, definition_id, version)
    if record is None:
        which = f"version {version} of " if version is not None else ""
        raise NotFound(f"there is no {which}{kind} {definition_id!r}")
    return record


def _check_form_binding(db: Database, store: Store, record: DefinitionVersionRecord) -> None:
    form = form_of(db, record)
    workflow_record = store.definitions.published("workflow", form.workflow)
    if workflow_record is None:
        raise DefinitionError([Problem(
            "/workflow",
            f"workflow {form.workflow!r} is not published: import and publish it first",
        )])
    problems = errors_only(check_guards_against_form(workflow_of(db, workflow_record), form))
    if problems:
        raise DefinitionError([
            Problem("/workflow", f"workflow {form.workflow!r}: {p.format()}") for p in problems
        ])


def _check_workflow_binding(db: Database, store: Store, record: DefinitionVersionRecord) -> None:
    workflow = workflow_of(db, record)
    problems: list[Problem] = []
    for form_record in store.definitions.all_published("form"):
        form = form_of(db, form_record)
        if form.workflow != workflow.id:
            continue
        for problem in errors_only(check_guards_against_form(workflow, form)):
            problems.append(Problem(problem.pointer, f"{problem.message} (form {form.id!r})"))
    if problems:
        raise DefinitionError(problems)


def _json_files(folder: Path | str | None) -> Iterable[Path]:
    if folder is None:
        return []
    path = Path(folder)
    return sorted(path.glob("*.json")) if path.is_dir() else []


def _import_file(
    db: Database, path: Path, kind: DefinitionKind, actor: str | None = None
) -> FileImported:
    try:
        data = parse_json(path.read_bytes())
    except OSError as exc:
        return FileImported(path, kind, problems=(Problem("", f"cannot read JSON: {exc}"),))
    except DefinitionError as exc:
        return FileImported(path, kind, problems=exc.problems)
    try:
        result = import_definition(db, data, kind, actor=actor)
    except DefinitionError as exc:
        return FileImported(path, kind, problems=exc.problems)
    return FileImported(path, kind, result, result.warnings)


def _with_published(result: DefinitionImported) -> DefinitionImported:
    return DefinitionImported(
        result.kind, result.id, result.version, result.created, True, result.warnings
    )
