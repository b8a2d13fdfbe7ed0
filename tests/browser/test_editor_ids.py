"""Renaming a field or a step in the form editor keeps the focus where the person went, and
every element of the builder has its own HTML id (issue 18).

A new id is taken over when the person leaves the id box (its ``change`` event); the builder is
then redrawn. The focus must end up where Tab or the click sent it — not back in the id box,
where the next typing would land (``emailE-Mail-Adresse``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from engine.services.editing import discard_editor_draft
from support.browser import LiveServer, Shots, Watch
from support.browser_staff import ADMIN, add_staff, sign_in
from support.browser_steps import expect, focused_id

NEW = "#field-0-5"
"""The contact form's one step holds five fields; a new one is the sixth."""


@pytest.fixture(scope="module", autouse=True)
def staff(live_server: LiveServer) -> None:
    add_staff(live_server)


@pytest.fixture(autouse=True)
def fresh_draft(live_server: LiveServer, page: Any) -> Iterator[None]:
    """Each test edits the published contact form, not what the last one autosaved: the
    editor's last save is awaited (no autosave left to arrive later), then thrown away."""
    discard_editor_draft(live_server.db, "form", "contact")
    yield
    page.evaluate("() => window.FormflowFormEditor && window.FormflowFormEditor.editor.save()")
    discard_editor_draft(live_server.db, "form", "contact")


def open_editor(page: Any) -> None:
    sign_in(page, ADMIN)
    page.goto("/admin/forms/contact/edit")
    expect(page.locator('[data-testid="step-card-message_step"]')).to_be_visible()


def add_field_with_the_keyboard(page: Any, field_type: str) -> None:
    page.focus("#step-0-new-type")
    page.select_option("#step-0-new-type", field_type)
    page.keyboard.press("Tab")
    assert focused_id(page) == "step-0-add-field"
    page.keyboard.press("Enter")
    expect(page.locator(f"{NEW}-id")).to_be_focused()


def test_renaming_a_field_with_the_keyboard_only_types_into_the_label_afterwards(
    page: Any, shots: Shots, watch: Watch
) -> None:
    open_editor(page)
    add_field_with_the_keyboard(page, "email")
    page.keyboard.press("Control+A")
    page.keyboard.type("email2")
    page.keyboard.press("Tab")  # leaves the id box: the new id is taken over
    expect(page.locator('[data-testid="field-card-email2"]')).to_have_count(1)
    assert focused_id(page) == "field-0-5-type"
    page.keyboard.press("Tab")
    assert focused_id(page) == "field-0-5-move-step"
    page.keyboard.press("Tab")
    assert focused_id(page) == "field-0-5-label-de"
    page.keyboard.type("E-Mail-Adresse")  # Tab selected the default label: replaced
    shots(page, "renamed and labelled")
    assert page.input_value(f"{NEW}-id") == "email2"
    assert page.input_value(f"{NEW}-label-de") == "E-Mail-Adresse"
    watch.assert_clean()


def test_renaming_a_field_then_clicking_into_the_label_types_into_the_label(
    page: Any, watch: Watch
) -> None:
    open_editor(page)
    add_field_with_the_keyboard(page, "text")
    page.keyboard.press("Control+A")
    page.keyboard.type("street")
    page.click(f"{NEW}-label-de")
    expect(page.locator('[data-testid="field-card-street"]')).to_have_count(1)
    expect(page.locator(f"{NEW}-label-de")).to_be_focused()
    page.keyboard.press("Control+A")
    page.keyboard.type("Straße")
    assert page.input_value(f"{NEW}-id") == "street"
    assert page.input_value(f"{NEW}-label-de") == "Straße"
    watch.assert_clean()


def test_renaming_a_step_then_tab_types_into_its_title(page: Any, watch: Watch) -> None:
    open_editor(page)
    page.focus("#step-0-id")
    page.keyboard.press("Control+A")
    page.keyboard.type("message")
    page.keyboard.press("Tab")
    expect(page.locator('[data-testid="step-card-message"]')).to_have_count(1)
    assert focused_id(page) == "step-0-title-de"
    page.keyboard.type("Ihre Nachricht")
    assert page.input_value("#step-0-id") == "message"
    assert page.input_value("#step-0-title-de") == "Ihre Nachricht"
    watch.assert_clean()


def test_a_click_on_a_button_right_after_renaming_is_not_lost(page: Any, watch: Watch) -> None:
    open_editor(page)
    add_field_with_the_keyboard(page, "text")
    page.keyboard.press("Control+A")
    page.keyboard.type("phone")
    page.click("#add-step")  # leaves the id box with a click on a button
    expect(page.locator('[data-testid="field-card-phone"]')).to_have_count(1)
    expect(page.locator("#step-1")).to_have_count(1)
    expect(page.locator("#step-1-id")).to_be_focused()
    watch.assert_clean()


def test_every_element_of_the_builder_has_its_own_id(page: Any, watch: Watch) -> None:
    open_editor(page)
    add_field_with_the_keyboard(page, "number")  # "Schrittweite" beside "In Schritt verschieben"
    expect(page.locator(f"{NEW}-step")).to_be_visible()
    duplicates = page.evaluate("""() => {
        const seen = new Map();
        for (const e of document.querySelectorAll('[id]')) {
            seen.set(e.id, (seen.get(e.id) || 0) + 1);
        }
        return [...seen].filter(([, n]) => n > 1).map(([id]) => id);
    }""")
    assert duplicates == []
    assert page.locator(f"label[for='{NEW[1:]}-step']").inner_text() == "Schrittweite"
    assert page.locator(f"label[for='{NEW[1:]}-move-step']").inner_text() == (
        "In Schritt verschieben")
    watch.assert_clean()
