"""The form editor with the newer field types: the shipped funding application opens, its
preview shows the rows and the live total, and new calculated, repeating and file fields can
be added with what they need, the check finding nothing wrong."""

from __future__ import annotations

from typing import Any

from support.browser import LiveServer, Shots, Watch
from support.browser_staff import ADMIN, add_staff, sign_in
from support.browser_steps import expect


def _set(page: Any, selector: str, value: str) -> None:
    page.fill(selector, value)
    page.locator(selector).dispatch_event("change")


def test_the_funding_form_in_the_editor(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    add_staff(live_server)
    sign_in(page, ADMIN)
    page.goto("/admin/forms/funding/edit")
    expect(page.locator('[data-testid="step-card-budget"]')).to_be_visible()
    expect(page.locator("#problem-summary")).to_have_attribute("data-errors", "0")

    # new fields of the newer types come with what they need
    for kind in ("calculated", "group", "file"):
        page.select_option("#step-2-new-type", kind)
        page.click("#step-2-add-field")
    expect(page.locator('[data-testid="field-card-field"]')).to_have_count(1)
    expect(page.locator("#problem-summary")).to_have_attribute("data-errors", "0")
    shots(page, "new calculated, group and file fields")

    page.click("#tab-preview")
    expect(page.locator("#panel-preview")).to_be_visible()
    # the preview of the changed draft (with the new calculated field) has arrived
    expect(page.locator('#preview-form [data-field="field"]')).to_have_count(1)
    progress = page.locator("#preview-progress")
    while progress.get_attribute("data-position") != "3":
        expect(page.locator("#preview-next")).to_be_enabled()
        page.click("#preview-next")
    page.click('#preview-form [data-add-row="costs"]')
    page.fill("#pv-costs-0-cost_amount", "1200.5")
    expect(page.locator("#pv-total_costs")).to_have_text("1200.5")
    shots(page, "preview with a row and the live total")
    watch.assert_clean()
