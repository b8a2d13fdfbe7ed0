"""engine.services.editing / staff / simulation without the web layer: drafts and their
revisions, listings, checks in context, publishing, what-if."""

from __future__ import annotations

import copy

import pytest

from engine.exceptions import AlreadyExists, DefinitionError, InvalidInput, NotFound
from engine.services import Database
from engine.services.editing import (
    DraftConflict,
    check_draft,
    definition_listings,
    discard_editor_draft,
    editor_draft,
    new_editor_draft,
    publish_editor_draft,
    save_editor_draft,
    skeleton,
)
from engine.services.simulation import simulate_form
from support.admin import FORM, WORKFLOW, form


def test_without_a_saved_draft_the_editor_starts_from_the_newest_version(db: Database) -> None:
    draft = editor_draft(db, "form", "grant")
    assert draft.data == FORM and draft.revision == 0 and not draft.saved
    assert draft.base_version == 1
    with pytest.raises(NotFound):
        editor_draft(db, "form", "nothing")
    with pytest.raises(InvalidInput):
        editor_draft(db, "page", "grant")


def test_revisions_count_saves_and_refuse_stale_ones(db: Database) -> None:
    one = save_editor_draft(db, "form", "grant", form(title="1"), actor="a@x.org",
                            expected_revision=0)
    two = save_editor_draft(db, "form", "grant", form(title="2"), actor="b@x.org",
                            expected_revision=one.revision)
    assert (one.revision, two.revision) == (1, 2) and two.updated_by == "b@x.org"
    with pytest.raises(DraftConflict) as refused:
        save_editor_draft(db, "form", "grant", form(title="3"), actor="a@x.org",
                          expected_revision=1)
    assert refused.value.current is not None and refused.value.current.data["title"] == "2"
    with pytest.raises(DraftConflict):
        save_editor_draft(db, "form", "grant", form(), actor=None, expected_revision=0)
    forced = save_editor_draft(db, "form", "grant", form(title="4"), actor=None,
                               expected_revision=None)
    assert forced.revision == 3 and editor_draft(db, "form", "grant").data["title"] == "4"
    assert discard_editor_draft(db, "form", "grant") is True
    assert discard_editor_draft(db, "form", "grant") is False
    with pytest.raises(NotFound):
        save_editor_draft(db, "form", "ghost", {}, actor=None, expected_revision=0)


def test_listings_include_drafts_of_new_definitions(db: Database) -> None:
    new_editor_draft(db, "workflow", "fresh", actor="a@x.org")
    with pytest.raises(AlreadyExists):
        new_editor_draft(db, "workflow", "fresh", actor="a@x.org")
    with pytest.raises(AlreadyExists):
        new_editor_draft(db, "workflow", "triage", actor="a@x.org")
    listings = {item.definition_id: item for item in definition_listings(db, "workflow")}
    assert listings["triage"].published_version == 1 and not listings["triage"].has_draft
    assert listings["fresh"].latest_version is None and listings["fresh"].has_draft
    assert listings["fresh"].title == {"de": "Neuer Workflow"}


def test_the_skeletons_are_valid_definitions() -> None:
    assert [p for p in check_draft(None, "form", "x", skeleton("form", "x"))
            if p.severity == "error"] == []
    assert check_draft(None, "workflow", "x", skeleton("workflow", "x")) == []


def test_a_new_workflow_goes_from_draft_to_version_1(db: Database) -> None:
    new_editor_draft(db, "workflow", "fresh", actor="a@x.org")
    outcome = publish_editor_draft(db, "workflow", "fresh")
    assert outcome.version == 1 and outcome.created and outcome.changes == ()
    assert editor_draft(db, "workflow", "fresh").base_version == 1


def test_checks_in_context_name_the_binding_problems(db: Database) -> None:
    orphan = form(workflow="nope")
    problems = check_draft(db, "form", "grant", orphan)
    assert [(p.pointer, p.severity) for p in problems] == [("/workflow", "error")]
    workflow = copy.deepcopy(WORKFLOW)
    workflow["transitions"][0]["when"] = {"field": "age", "op": "contains", "value": "1"}
    problems = check_draft(db, "workflow", "triage", workflow)
    assert problems and problems[0].pointer == "/transitions/0/when/op"
    assert "form 'grant'" in problems[0].message
    save_editor_draft(db, "workflow", "triage", workflow, actor=None, expected_revision=0)
    with pytest.raises(DefinitionError):
        publish_editor_draft(db, "workflow", "triage")


def test_simulation_without_a_database_uses_the_given_workflow() -> None:
    result = simulate_form(None, FORM, {"age": 40, "name": "A", "phone": "030 1234"},
                           workflow_data=WORKFLOW, roles=["admin"])
    assert result.workflow_source == "draft"
    submitted = result.states[0]
    assert all(t.offered for t in submitted.transitions)  # admin may fire everything
    assert result.evaluation["answers"] is not None
    alone = simulate_form(None, FORM, {})
    assert alone.states == () and alone.workflow_source is None
    with pytest.raises(DefinitionError):
        simulate_form(None, {"id": "x"}, {})
