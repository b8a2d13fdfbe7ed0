"""An administrator changes the membership form in the browser and publishes it (issue 5).

The whole path runs through real pages: the login, the forms list, the editor's builder (a
new field, a relabelled field, a rule from the rule builder), the preview, the publish panel.
Afterwards a new applicant sees the new field as the rule says, and a submission made before
publishing still reads with version 1's labels on the coordinator's page.
"""

from __future__ import annotations

from typing import Any

import pytest

from engine.conditions import OPERATORS
from engine.services import get_submission, published_form
from support.browser import LiveServer, Shots, Watch, new_context
from support.browser_staff import ADMIN, add_staff, sign_in, submit_membership
from support.browser_steps import expect, fill_address, fill_person, open_step, submit_review

OLD_TOPIC_LABEL = "Ich würde gerne in folgendem Themenkreis mitarbeiten"
NEW_TOPIC_LABEL = "Themenkreis, in dem ich mitarbeiten möchte"


@pytest.fixture(scope="module", autouse=True)
def staff(live_server: LiveServer) -> None:
    add_staff(live_server)


def _set(page: Any, selector: str, value: str) -> None:
    """Types ``value`` and leaves the input, as a person does (fires input and change)."""
    page.fill(selector, value)
    page.locator(selector).dispatch_event("change")


def test_admin_adds_field_and_rule_publishes_and_old_submission_keeps_version_1(
    page: Any, chromium: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    before = submit_membership(live_server, name="Vor Version Zwei")

    sign_in(page, ADMIN)
    page.goto("/admin/forms")
    row = page.locator('[data-testid="definition-membership"]')
    assert row.get_attribute("data-published") == "1"
    shots(page, "forms list")
    page.click("#edit-membership")
    page.wait_for_url("**/admin/forms/membership/edit")
    expect(page.locator('[data-testid="step-card-participation"]')).to_be_visible()
    shots(page, "editor opened")

    # a new text field on the third step ("participation" holds activities, topic, consent)
    assert page.locator("#step-2-id").input_value() == "participation"
    page.select_option("#step-2-new-type", "text")
    page.click("#step-2-add-field")
    expect(page.locator("#field-2-3-id")).to_be_visible()
    _set(page, "#field-2-3-id", "website")
    expect(page.locator('[data-testid="field-card-website"]')).to_have_count(1)
    _set(page, "#field-2-3-label-de", "Webseite")
    _set(page, "#field-2-3-label-en", "Website")

    # relabel the topic field: version 1's submissions must keep the old label
    toggle = page.locator("#field-2-1-toggle")
    if toggle.get_attribute("aria-expanded") != "true":
        toggle.click()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    _set(page, "#field-2-1-label-de", NEW_TOPIC_LABEL)

    # a rule from the rule builder: show "website" when topic equal_to transparenz
    page.click("#add-rule")
    expect(page.locator("#rule-1")).to_be_visible()
    page.select_option("#rule-1-show", "website")
    page.select_option("#rule-1-cond-0-field", "topic")
    offered = page.locator("#rule-1-cond-0-op option").evaluate_all(
        "options => options.map(o => o.value)")
    engine_allows = [name for name, op in OPERATORS.items() if "select" in op.types]
    assert offered == engine_allows
    assert "greater_than" not in offered and "equal_to" in offered
    page.select_option("#rule-1-cond-0-op", "equal_to")
    value = page.locator("#rule-1-cond-0-value")
    assert value.evaluate("e => e.tagName") == "SELECT"
    value.select_option("transparenz")
    shots(page, "field and rule added")

    # the check panel finds nothing wrong
    expect(page.locator("#problem-summary")).to_have_attribute("data-errors", "0")

    # preview: the new field appears only after choosing the topic
    page.click("#tab-preview")
    expect(page.locator("#panel-preview")).to_be_visible()
    progress = page.locator("#preview-progress")
    # the preview is rendered by the server first: clicking on before that races its render
    expect(progress).to_have_attribute("data-total", "3")
    while progress.get_attribute("data-position") != "3":
        position = progress.get_attribute("data-position")
        page.click("#preview-next")
        expect(progress).not_to_have_attribute("data-position", str(position))
    website = page.locator('#preview-form [data-field="website"]')
    expect(website).to_be_hidden()
    page.select_option("#pv-topic", "transparenz")
    expect(website).to_be_visible()
    shots(page, "preview with topic chosen")
    page.select_option("#pv-topic", "qualitaet")
    expect(website).to_be_hidden()

    # publish version 2
    page.click("#tab-publish")
    expect(page.locator("#publish-changes li").first).to_be_visible()
    change_texts = " ".join(page.locator("#publish-changes li").all_inner_texts())
    assert "website" in change_texts
    expect(page.locator("#publish-confirm")).to_be_enabled()
    shots(page, "publish panel")
    page.click("#publish-confirm")
    expect(page.locator("#publish-result")).to_have_attribute("data-version", "2")
    shots(page, "published")
    record, definition = published_form(live_server.db, "membership")
    assert record.version == 2
    assert "website" in {f.id for f in definition.fields()}

    # a new applicant (own context) sees the new field once the topic is chosen
    applicant_watch = Watch(live_server.url)
    applicant = new_context(chromium, live_server)
    applicant_watch.attach(applicant)
    try:
        form = applicant.new_page()
        form.goto("/f/membership")
        open_step(form, "person")
        fill_person(form)
        form.click("#next")
        open_step(form, "address")
        fill_address(form)
        form.click("#next")
        open_step(form, "participation")
        expect(form.locator("label[for='field-topic']")).to_contain_text(NEW_TOPIC_LABEL)
        new_field = form.locator("#field-website")
        expect(new_field).to_be_hidden()
        form.fill("#field-activities", "Beteiligungsatlas.")
        form.select_option("#field-topic", "transparenz")
        expect(new_field).to_be_visible()
        expect(form.locator("label[for='field-website']")).to_contain_text("Webseite")
        form.fill("#field-website", "https://example.org/atlas")
        form.check("#field-topic_consent")
        shots(form, "applicant sees the new field")
        form.click("#next")
        submit_review(form)
        reference = form.locator("#reference").inner_text().strip()
        shots(form, "applicant confirmation")
    finally:
        applicant.close()
    applicant_watch.assert_clean()

    # the old submission still reads with version 1; the new one with version 2
    old = get_submission(live_server.db, before.id)
    assert old.form_version == 1
    page.goto(f"/inbox/{before.id}")
    expect(page.locator("dl.summary")).to_contain_text("Version 1")
    expect(page.locator("#label-topic")).to_have_text(OLD_TOPIC_LABEL)
    expect(page.locator("#label-website")).to_have_count(0)
    shots(page, "old submission keeps version 1")

    page.goto("/inbox?form=membership")
    newest = page.locator("#inbox tbody tr").first
    expect(newest).to_contain_text(reference)
    expect(newest).to_contain_text("v2")
    newest.locator("a").click()
    page.wait_for_url("**/inbox/*")
    expect(page.locator("#label-topic")).to_have_text(NEW_TOPIC_LABEL)
    expect(page.locator("#label-website")).to_have_text("Webseite")
    expect(page.locator('[data-field="website"]')).to_have_text("https://example.org/atlas")
    shots(page, "new submission with version 2")

    watch.assert_clean()
