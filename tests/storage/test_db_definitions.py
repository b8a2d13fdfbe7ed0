"""Importing, versioning, publishing and exporting definitions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.exceptions import DefinitionError, NotFound
from engine.services import (
    Database,
    export_definition,
    import_definition,
    import_directory,
    list_published,
    publish_form,
    publish_workflow,
    published_form,
)
from support.storage import FORM, WORKFLOW, form, workflow

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _versions(db: Database, kind: str, definition_id: str) -> list[int]:
    with db.read() as store:
        return [v.version for v in store.definitions.versions(kind, definition_id)]  # type: ignore[arg-type]


def test_versions_are_numbered_and_unchanged_content_creates_none(db: Database) -> None:
    first = import_definition(db, WORKFLOW, "workflow")
    assert (first.id, first.version, first.created) == ("review", 1, True)

    again = import_definition(db, json.loads(json.dumps(WORKFLOW)), "workflow")
    assert (again.version, again.created) == (1, False)
    reordered = dict(reversed(list(WORKFLOW.items())))  # same content, other key order
    assert import_definition(db, reordered, "workflow").created is False

    changed = import_definition(db, workflow(title={"de": "Neu", "en": "New"}), "workflow")
    assert (changed.version, changed.created) == (2, True)
    assert _versions(db, "workflow", "review") == [1, 2]
    assert export_definition(db, "workflow", "review", 1) == WORKFLOW
    assert export_definition(db, "workflow", "review")["title"] == {"de": "Neu", "en": "New"}


def test_a_refused_definition_stores_nothing(db: Database) -> None:
    broken = form(id="Not An Id", steps=[])
    with pytest.raises(DefinitionError) as refused:
        import_definition(db, broken, "form")
    assert refused.value.problems, "every problem is listed"
    assert all(p.severity == "error" for p in refused.value.problems)
    with db.read() as store:
        assert store.definitions.all_published("form") == []
        assert store.definitions.latest("form", "Not An Id") is None
        assert store.definitions.latest("form", "membership") is None


def test_a_refused_new_version_keeps_the_old_one(db: Database) -> None:
    import_definition(db, WORKFLOW, "workflow")
    with pytest.raises(DefinitionError):
        import_definition(db, workflow(initial="nowhere"), "workflow")
    assert _versions(db, "workflow", "review") == [1]


def test_publishing_a_form_needs_its_workflow_published(db: Database) -> None:
    import_definition(db, FORM, "form")
    with pytest.raises(DefinitionError, match="workflow 'review' is not published"):
        publish_form(db, "membership")
    import_definition(db, WORKFLOW, "workflow")
    with pytest.raises(DefinitionError, match="not published"):
        publish_form(db, "membership")  # imported is not enough
    publish_workflow(db, "review")
    published = publish_form(db, "membership")
    assert (published.version, published.published) == (1, True)
    assert [(r.definition_id, r.version) for r in list_published(db, "form")] == [
        ("membership", 1)
    ]


def test_publishing_checks_guards_against_the_forms_fields(db: Database) -> None:
    without_age = form(steps=[
        {**FORM["steps"][0], "fields": FORM["steps"][0]["fields"][:2]}, FORM["steps"][1],
    ])
    import_definition(db, WORKFLOW, "workflow")
    publish_workflow(db, "review")
    import_definition(db, without_age, "form")
    with pytest.raises(DefinitionError, match="age"):
        publish_form(db, "membership")
    with db.read() as store:
        assert store.definitions.published("form", "membership") is None


def test_publishing_a_workflow_checks_the_published_forms_using_it(db: Database) -> None:
    import_definition(db, WORKFLOW, "workflow")
    publish_workflow(db, "review")
    import_definition(db, FORM, "form")
    publish_form(db, "membership")
    guard_on_missing_field = workflow(transitions=[
        *WORKFLOW["transitions"][:2],
        {"id": "fast_track", "from": "submitted", "to": "accepted", "roles": ["coordinator"],
         "when": {"field": "shoe_size", "op": "greater_than", "value": 40}},
        WORKFLOW["transitions"][3],
    ])
    imported = import_definition(db, guard_on_missing_field, "workflow")
    assert imported.version == 2
    with pytest.raises(DefinitionError, match="membership"):
        publish_workflow(db, "review")
    with db.read() as store:
        current = store.definitions.published("workflow", "review")
    assert current is not None and current.version == 1


def test_a_version_published_elsewhere_is_seen_at_once(db: Database, database_url: str) -> None:
    import_definition(db, WORKFLOW, "workflow")
    publish_workflow(db, "review")
    import_definition(db, FORM, "form")
    publish_form(db, FORM["id"])
    assert published_form(db, FORM["id"])[0].version == 1

    elsewhere = Database(database_url)  # another process publishes
    try:
        import_definition(elsewhere, form(title={"de": "Zwei", "en": "Two"}), "form")
        publish_form(elsewhere, FORM["id"])
    finally:
        elsewhere.dispose()
    record, loaded = published_form(db, FORM["id"])
    assert (record.version, loaded.title["en"]) == (2, "Two")


def test_unknown_ids_and_versions_are_not_found(db: Database) -> None:
    with pytest.raises(NotFound):
        publish_form(db, "nope")
    with pytest.raises(NotFound):
        export_definition(db, "form", "nope")
    import_definition(db, WORKFLOW, "workflow")
    with pytest.raises(NotFound, match="version 7"):
        export_definition(db, "workflow", "review", 7)


def test_import_directory_publishes_the_shipped_definitions_once(db: Database) -> None:
    forms_dir, workflows_dir = PROJECT_ROOT / "forms", PROJECT_ROOT / "workflows"
    first = import_directory(db, forms_dir, workflows_dir)
    assert first and all(o.ok for o in first), [(o.path.name, o.problems) for o in first]
    assert all(o.result is not None and o.result.created and o.result.published for o in first)
    shipped_forms = sorted(p.stem for p in forms_dir.glob("*.json"))
    assert sorted(r.definition_id for r in list_published(db, "form")) == shipped_forms

    second = import_directory(db, forms_dir, workflows_dir)
    assert all(o.result is not None and not o.result.created for o in second)
    assert all(o.result is not None and o.result.version == 1 for o in second)


def test_import_directory_reports_bad_files_and_imports_the_rest(
    db: Database, tmp_path: Path
) -> None:
    forms_dir, workflows_dir = tmp_path / "forms", tmp_path / "workflows"
    forms_dir.mkdir()
    workflows_dir.mkdir()
    (workflows_dir / "review.json").write_text(json.dumps(WORKFLOW), encoding="utf-8")
    (forms_dir / "membership.json").write_text(json.dumps(FORM), encoding="utf-8")
    (forms_dir / "broken.json").write_text("{not json", encoding="utf-8")
    (forms_dir / "invalid.json").write_text(json.dumps(form(id="invalid", steps=[])))
    outcomes = {o.path.name: o for o in import_directory(db, forms_dir, workflows_dir)}
    assert outcomes["review.json"].ok and outcomes["membership.json"].ok
    assert not outcomes["broken.json"].ok
    assert "JSON" in outcomes["broken.json"].problems[0].message
    assert not outcomes["invalid.json"].ok
    assert [r.definition_id for r in list_published(db, "form")] == ["membership"]


def test_import_directory_publishes_a_workflow_whose_guard_needs_the_new_form(
    db: Database, tmp_path: Path
) -> None:
    """Form and workflow change together: the order of publishing must not matter."""
    without_age = form(steps=[
        {**FORM["steps"][0], "fields": FORM["steps"][0]["fields"][:2]}, FORM["steps"][1],
    ])
    no_guard = workflow(transitions=[WORKFLOW["transitions"][i] for i in (0, 1, 3)])
    import_definition(db, no_guard, "workflow")
    publish_workflow(db, "review")
    import_definition(db, without_age, "form")
    publish_form(db, "membership")

    (tmp_path / "f").mkdir()
    (tmp_path / "w").mkdir()
    (tmp_path / "f" / "membership.json").write_text(json.dumps(FORM))
    (tmp_path / "w" / "review.json").write_text(json.dumps(WORKFLOW))
    outcomes = import_directory(db, tmp_path / "f", tmp_path / "w")
    assert all(o.ok for o in outcomes), [o.problems for o in outcomes]
    with db.read() as store:
        workflow_now = store.definitions.published("workflow", "review")
        form_now = store.definitions.published("form", "membership")
    assert workflow_now is not None and workflow_now.version == 2
    assert form_now is not None and form_now.version == 2
