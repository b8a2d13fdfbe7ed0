"""The editor speaks the administrator's language (issue 18): check messages name the step
and field by label in German (the JSON pointer only in the raw JSON view), a new form's id is
proposed from its title, and a new field gets a readable label."""

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
def fresh_drafts(live_server: LiveServer, page: Any) -> Iterator[None]:
    discard_editor_draft(live_server.db, "form", "contact")
    yield
    page.evaluate("() => window.FormflowFormEditor && window.FormflowFormEditor.editor.save()")
    discard_editor_draft(live_server.db, "form", "contact")
    discard_editor_draft(live_server.db, "form", "foerderantrag")


def test_check_messages_name_step_and_field_by_label_in_german(
    page: Any, shots: Shots, watch: Watch
) -> None:
    sign_in(page, ADMIN)
    page.goto("/admin/forms/contact/edit")
    toggle = page.locator("#field-0-2-toggle")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    label = page.locator("#field-0-2-label-en")
    expect(label).to_have_value("Subject")
    label.fill("")
    label.dispatch_event("change")
    problem = page.locator('#problems li[data-pointer="/steps/0/fields/2/label"]')
    expect(problem).to_have_text(
        "Schritt ‚Ihre Nachricht', Feld ‚Betreff': leer in ‚en', einer Sprache des Formulars")
    expect(page.locator("#problem-summary")).to_have_text("0 Fehler, 1 Warnung")
    assert "/steps/" not in page.locator("#problems").inner_text()
    shots(page, "warning by label")
    page.click("#tab-json")
    raw = page.locator('#json-problems li[data-pointer="/steps/0/fields/2/label"]')
    expect(raw).to_contain_text("/steps/0/fields/2/label: empty in 'en'")
    watch.assert_clean()


def test_a_new_form_id_is_proposed_from_its_title_and_fields_get_readable_labels(
    page: Any, shots: Shots, watch: Watch
) -> None:
    sign_in(page, ADMIN)
    page.goto("/admin/forms")
    page.locator("#new-title-input").press_sequentially("Förderantrag")
    expect(page.locator("#new-id")).to_have_value("foerderantrag")
    shots(page, "id proposed")
    page.click("#new-submit")
    page.wait_for_url("**/admin/forms/foerderantrag/edit")
    expect(page.locator("#form-title-de")).to_have_value("Förderantrag")
    page.select_option("#step-0-new-type", "email")
    page.click("#step-0-add-field")
    expect(page.locator("#field-0-1-label-de")).to_have_value("E-Mail")
    page.select_option("#step-0-new-type", "email")
    page.click("#step-0-add-field")
    expect(page.locator("#field-0-2-label-de")).to_have_value("E-Mail 2")
    watch.assert_clean()
