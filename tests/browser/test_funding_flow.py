"""The funding application in a real browser: organisation, project, cost rows with a live
total, attachments checked by their content, submitted with and without JavaScript; then a
coordinator sees the rows and the total and downloads the files.

Hooks: docs/applicants.md, "Hooks for browser tests"; rows are ``[data-row]`` inside
``[data-rows="costs"]``, their controls ``#field-costs-<n>-<field>``.
"""

from __future__ import annotations

import re
from typing import Any

from engine.records import SubmissionRecord
from engine.services import submission_for_token
from support.browser import LiveServer, Shots, Watch, new_context
from support.browser_staff import COORDINATOR, add_staff, sign_in
from support.browser_steps import expect, step_id

FORM = "/f/funding"
PDF = b"%PDF-1.7\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 200 + b"%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 2048
FAKE_PDF = b"MZ\x90\0 this is a program, not a PDF"


def _open(page: Any, step: str) -> None:
    page.wait_for_url(f"**{FORM}/step/{step}**")
    assert step_id(page) == step


def _organisation(page: Any) -> None:
    _open(page, "organisation")
    page.fill("#field-org_name", "Beteiligung vor Ort e. V.")
    page.select_option("#field-legal_form", "ev")
    page.fill("#field-contact_name", "Erika Mustermann")
    page.fill("#field-contact_email", "erika@example.org")


def _project(page: Any) -> None:
    _open(page, "project")
    page.fill("#field-project_title", "Bürgerrat Verkehr")
    page.fill("#field-project_description", "Ein losbasierter Bürgerrat zur Verkehrswende.")
    page.fill("#field-start_date", "2027-03-01")
    page.fill("#field-end_date", "2027-02-01")  # before the start: refused
    page.click("#next")
    page.wait_for_selector("#field-end_date-error")
    expect(page.locator("#field-end_date-error")).to_contain_text("ab dem 01.03.2027")
    page.fill("#field-end_date", "2027-06-30")
    page.click("#next")


def _stored(live_server: LiveServer, page: Any) -> SubmissionRecord:
    href = page.get_attribute("#status-link", "href")
    assert href and href.startswith(live_server.url + "/status/"), href
    submission = submission_for_token(live_server.db, href.rsplit("/", 1)[1])
    assert submission is not None
    return submission


def _coordinator_sees_rows_total_and_files(
    chromium: Any, live_server: LiveServer, submission: SubmissionRecord, shots: Shots
) -> None:
    context = new_context(chromium, live_server, accept_downloads=True)
    try:
        page = context.new_page()
        sign_in(page, COORDINATOR, next_path=f"/inbox/{submission.id}")
        page.goto(f"/inbox/{submission.id}")
        costs = page.locator('[data-field="costs"]')
        expect(costs).to_contain_text("1. Bezeichnung: Moderation; Betrag in Euro: 6000")
        expect(costs).to_contain_text("2. Bezeichnung: Raummiete; Betrag in Euro: 5000.5")
        expect(page.locator('[data-field="total_costs"]')).to_have_text("11000.5")
        shots(page, "coordinator sees the rows and the total")
        with page.expect_download() as info:
            page.click('[data-field="budget_plan"] a')
        download = info.value
        assert download.suggested_filename == "Kostenplan.pdf"
        assert open(download.path(), "rb").read() == PDF
        response = page.request.get(
            page.get_attribute('[data-field="statutes"] a', "href") or "")
        assert response.status == 200 and response.body() == PNG
        assert response.headers["content-type"] == "image/png"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-disposition"].startswith("attachment;")
    finally:
        context.close()


def test_with_javascript_live_total_rows_and_files(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch, chromium: Any
) -> None:
    add_staff(live_server)
    for step in ("project", "attachments"):  # refused on purpose below
        watch.expect_status(f"{FORM}/step/{step}", 422)
    page.goto(FORM)
    _organisation(page)
    register = page.locator('[data-field="register_number"]')
    expect(register).to_be_visible()  # shown live for "e. V."
    page.fill("#field-register_number", "VR 12345 B")
    page.click("#next")
    _project(page)

    _open(page, "budget")
    page.click('[data-add-row="costs"]')  # added in the page, no request
    expect(page.locator('[data-rows="costs"] [data-row]')).to_have_count(1)
    page.fill("#field-costs-0-cost_item", "Moderation")
    page.fill("#field-costs-0-cost_amount", "6000")
    expect(page.locator("#field-total_costs")).to_have_text("6000")
    page.click('[data-add-row="costs"]')
    page.fill("#field-costs-1-cost_item", "Raummiete")
    page.fill("#field-costs-1-cost_amount", "5000.50")
    expect(page.locator("#field-total_costs")).to_have_text("11000.5")
    page.click('[data-add-row="costs"]')
    page.fill("#field-costs-2-cost_item", "Wird wieder entfernt")
    page.click('[data-row="2"] [data-remove-row]')
    expect(page.locator('[data-rows="costs"] [data-row]')).to_have_count(2)
    page.fill("#field-requested_amount", "9000")
    shots(page, "budget with live total")
    page.click("#next")

    _open(page, "attachments")
    page.set_input_files("#field-budget_plan", files=[
        {"name": "Kostenplan.pdf", "mimeType": "application/pdf", "buffer": FAKE_PDF}])
    expect(page.locator('[data-file-choice-for="budget_plan"]')).to_contain_text("Kostenplan.pdf")
    page.check("#field-consent")
    page.click("#next")
    page.wait_for_selector("#field-budget_plan-error")
    expect(page.locator("#field-budget_plan-error")).to_contain_text("nicht die erlaubte Art")
    shots(page, "fake pdf refused")
    page.set_input_files("#field-budget_plan", files=[
        {"name": "Kostenplan.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    page.set_input_files("#field-statutes", files=[
        {"name": "Satzung.png", "mimeType": "image/png", "buffer": PNG}])
    page.check("#field-consent")
    page.click("#next")

    page.wait_for_url(f"**{FORM}/review")
    answers = page.locator("main")
    expect(answers).to_contain_text("1. Bezeichnung: Moderation; Betrag in Euro: 6000")
    expect(answers).to_contain_text("11000.5")
    expect(answers).to_contain_text("Kostenplan.pdf (")
    shots(page, "review")
    page.click("#submit")
    page.wait_for_url(f"**{FORM}/confirmation")
    submission = _stored(live_server, page)
    assert submission.answers["total_costs"] == 11000.5
    assert [row["cost_item"] for row in submission.answers["costs"]] == [
        "Moderation", "Raummiete"]
    assert submission.answers["budget_plan"][0]["type"] == "application/pdf"
    watch.assert_clean()
    _coordinator_sees_rows_total_and_files(chromium, live_server, submission, shots)


def test_without_javascript_rows_by_posting_and_files_in_a_plain_form(
    chromium: Any, live_server: LiveServer, shots: Shots
) -> None:
    context = new_context(chromium, live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(FORM)
        _organisation(page)
        expect(page.locator('[data-field="register_number"]')).to_be_hidden()  # no script
        page.click("#next")
        page.wait_for_selector("#field-register_number-error")  # now shown, and required
        page.fill("#field-register_number", "VR 999")
        page.click("#next")
        _project(page)

        _open(page, "budget")
        page.click('[data-add-row="costs"]')  # posts the step
        page.wait_for_selector("#field-costs-0-cost_item")
        page.fill("#field-costs-0-cost_item", "Honorar")
        page.fill("#field-costs-0-cost_amount", "12000")
        page.fill("#field-requested_amount", "12000.01")
        page.click("#next")
        page.wait_for_selector("#field-requested_amount-error")
        expect(page.locator("#field-total_costs")).to_have_text("12000")
        page.fill("#field-requested_amount", "12000")
        page.click("#next")

        _open(page, "attachments")
        form = page.locator("#step-form")
        assert form.get_attribute("enctype") == "multipart/form-data"
        page.check("#field-consent")
        page.click("#next")  # total > 10000: the budget plan is required
        page.wait_for_selector("#field-budget_plan-error")
        page.set_input_files("#field-budget_plan", files=[
            {"name": "Plan.pdf", "mimeType": "application/pdf", "buffer": PDF}])
        page.check("#field-consent")
        page.click("#next")
        page.wait_for_url(f"**{FORM}/review")
        expect(page.locator("main")).to_contain_text("Plan.pdf (")
        shots(page, "review without javascript")
        page.click("#submit")
        page.wait_for_url(f"**{FORM}/confirmation")
        submission = _stored(live_server, page)
        assert submission.answers["costs"] == [{"cost_item": "Honorar", "cost_amount": 12000}]
        assert re.fullmatch(r"[0-9a-f]{64}", submission.answers["budget_plan"][0]["sha256"])
    finally:
        context.close()
