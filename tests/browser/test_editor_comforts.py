"""Builder comforts (issue 18): duplicate a field or a step, undo and redo the last changes
with the toolbar buttons and with Ctrl+Z / Ctrl+Y."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine.services.editing import discard_editor_draft
from support.browser import LiveServer, Shots, Watch
from support.browser_staff import ADMIN, add_staff, sign_in
from support.browser_steps import expect


@pytest.fixture(scope="module", autouse=True)
def staff(live_server: LiveServer) -> None:
    add_staff(live_server)


@pytest.fixture(autouse=True)
def fresh_draft(live_server: LiveServer, page: Any) -> Iterator[None]:
    discard_editor_draft(live_server.db, "form", "contact")
    yield
    page.evaluate("() => window.FormflowFormEditor && window.FormflowFormEditor.editor.save()")
    discard_editor_draft(live_server.db, "form", "contact")


def open_editor(page: Any) -> None:
    sign_in(page, ADMIN)
    page.goto("/admin/forms/contact/edit")
    expect(page.locator('[data-testid="step-card-message_step"]')).to_be_visible()


def field_ids(page: Any) -> list[str]:
    return list(page.evaluate(
        "() => window.FormflowFormEditor.editor.draft.steps.flatMap("
        "(s) => s.fields.map((f) => s.id + '/' + f.id))"))


def test_duplicate_a_field_and_a_step(page: Any, shots: Shots, watch: Watch) -> None:
    open_editor(page)
    page.click("#field-0-1-duplicate")
    expect(page.locator("#field-0-2-id")).to_be_focused()
    expect(page.locator("#field-0-2-id")).to_have_value("email_copy")
    ids = field_ids(page)
    assert ids[:3] == ["message_step/name", "message_step/email", "message_step/email_copy"]
    label = page.evaluate("() => window.FormflowFormEditor.editor.draft.steps[0].fields[2].label")
    assert label == {"de": "E-Mail (Kopie)", "en": "Email (Kopie)"}
    page.click("#step-0-duplicate")
    expect(page.locator('[data-testid="step-card-message_step_copy"]')).to_be_visible()
    copied = [i for i in field_ids(page) if i.startswith("message_step_copy/")]
    assert copied[:2] == ["message_step_copy/name_copy", "message_step_copy/email_copy_2"]
    assert len(copied) == 6
    shots(page, "duplicated")
    expect(page.locator("#problem-summary")).to_have_attribute("data-errors", "0")
    watch.assert_clean()


def test_undo_and_redo_with_buttons_and_keys(page: Any, watch: Watch) -> None:
    open_editor(page)
    expect(page.locator("#undo")).to_be_disabled()
    original = field_ids(page)
    page.click("#field-0-4-remove")
    assert len(field_ids(page)) == len(original) - 1
    page.click("#field-0-0-duplicate")
    assert len(field_ids(page)) == len(original)
    page.click("#undo")
    assert len(field_ids(page)) == len(original) - 1
    page.click("#undo")
    assert field_ids(page) == original
    expect(page.locator("#undo")).to_be_disabled()
    page.click("#redo")
    assert len(field_ids(page)) == len(original) - 1
    page.locator("body").press("Control+y")
    assert "message_step/name_copy" in field_ids(page)
    expect(page.locator("#redo")).to_be_disabled()
    page.locator("body").press("Control+z")
    page.locator("body").press("Control+z")
    assert field_ids(page) == original
    watch.assert_clean()


def test_preview_beside_the_builder_on_wide_screens_only(
    page: Any, shots: Shots, watch: Watch
) -> None:
    page.set_viewport_size({"width": 1300, "height": 900})
    open_editor(page)
    preview = page.locator("#panel-preview")
    expect(preview).to_be_visible()
    expect(page.locator("#preview input, #preview textarea").first).to_be_visible()
    builder_box = page.locator("#panel-builder").bounding_box()
    preview_box = preview.bounding_box()
    assert builder_box and preview_box
    assert preview_box["x"] > builder_box["x"] + builder_box["width"] - 1
    shots(page, "preview beside the builder")
    page.set_viewport_size({"width": 1000, "height": 900})
    expect(preview).to_be_hidden()
    page.click("#tab-preview")
    expect(preview).to_be_visible()
    expect(page.locator("#panel-builder")).to_be_hidden()
    watch.assert_clean()


def test_drag_a_field_onto_another_and_the_move_buttons_stay(page: Any, watch: Watch) -> None:
    open_editor(page)
    original = field_ids(page)
    page.drag_and_drop("#field-0-4-drag", "#field-0-1")
    moved = field_ids(page)
    assert moved == [original[0], original[4], *original[1:4]]
    expect(page.locator("#field-0-1-up")).to_be_enabled()
    page.click("#field-0-1-up")
    assert field_ids(page)[0] == original[4]
    page.click("#undo")
    page.click("#undo")
    assert field_ids(page) == original
    watch.assert_clean()


def step_ids(page: Any) -> list[str]:
    return list(page.evaluate(
        "() => window.FormflowFormEditor.editor.draft.steps.map((s) => s.id)"))


def test_drag_a_step_onto_another_and_the_move_buttons_stay(page: Any, watch: Watch) -> None:
    page.set_viewport_size({"width": 1000, "height": 3000})  # both steps in view: no scrolling
    open_editor(page)
    page.click("#step-0-duplicate")
    expect(page.locator('[data-testid="step-card-message_step_copy"]')).to_be_visible()
    fields = field_ids(page)
    assert step_ids(page) == ["message_step", "message_step_copy"]
    page.drag_and_drop("#step-1-drag", "#step-0-heading")
    assert step_ids(page) == ["message_step_copy", "message_step"]
    # the fields travel with their step, none is moved on its own
    assert sorted(field_ids(page)) == sorted(fields)
    assert field_ids(page)[0].startswith("message_step_copy/")
    expect(page.locator("#step-1-up")).to_be_enabled()
    page.click("#step-1-up")
    assert step_ids(page) == ["message_step", "message_step_copy"]
    page.click("#undo")
    assert step_ids(page) == ["message_step_copy", "message_step"]
    watch.assert_clean()


def test_availability_is_set_in_the_form_settings(page: Any, watch: Watch) -> None:
    """Window, places and waiting list without touching the JSON; a window the wrong way
    round is named in German at its place."""
    open_editor(page)
    page.fill("#form-opens-at", "2027-05-01T09:00")
    page.fill("#form-closes-at", "2027-04-01T18:00")
    page.fill("#form-capacity", "40")
    page.check("#form-waitlist")
    draft = page.evaluate("() => window.FormflowFormEditor.editor.draft")
    assert (draft["opens_at"], draft["closes_at"], draft["capacity"], draft["waitlist"]) == (
        "2027-05-01T09:00", "2027-04-01T18:00", 40, True)
    problem = page.locator('#problems li[data-pointer="/closes_at"]')
    expect(problem).to_contain_text("muss nach opens_at liegen")
    page.fill("#form-closes-at", "2027-05-20T18:00")
    expect(problem).to_have_count(0)
    page.fill("#form-capacity", "")
    page.uncheck("#form-waitlist")
    draft = page.evaluate("() => window.FormflowFormEditor.editor.draft")
    assert "capacity" not in draft and "waitlist" not in draft
    watch.assert_clean()
