"""The membership application in a real browser: German end to end with the live rules, going
back and forth and resuming elsewhere, errors, English through the visible switch, and the
same flow without JavaScript (the server's evaluation decides on every render).

Hooks: docs/applicants.md, "Hooks for browser tests".
"""

from __future__ import annotations

import re
from typing import Any

from engine.records import SubmissionRecord
from engine.services import definitions_of, history, submission_for_token
from engine.text import localize
from support.browser import LiveServer, Shots, Watch, new_context
from support.browser_steps import (
    ACTIVITIES,
    ADDRESS,
    FORM,
    PERSON,
    expect,
    fill_address,
    fill_participation,
    fill_person,
    focused_id,
    open_step,
    submit_review,
)


def stored_submission(live_server: LiveServer, page: Any) -> SubmissionRecord:
    """The submission behind the confirmation page's status link, read through the services."""
    href = page.get_attribute("#status-link", "href")
    assert href and href.startswith(live_server.url + "/status/"), href
    submission = submission_for_token(live_server.db, href.rsplit("/", 1)[1])
    assert submission is not None, "the status link names no stored submission"
    return submission


def test_german_end_to_end_with_live_rules(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    page.goto("/")
    assert page.get_attribute("html", "lang") == "de"
    shots(page, "start page")
    page.click("#start-membership")
    open_step(page, "person")
    expect(page.locator("#progress")).to_have_text("Schritt 1 von 3")
    fill_person(page)
    shots(page, "person filled")
    page.click("#next")

    open_step(page, "address")
    expect(page.locator("#progress")).to_have_text("Schritt 2 von 3")
    fill_address(page)
    shots(page, "address filled")
    page.click("#next")

    open_step(page, "participation")
    consent = page.locator('[data-field="topic_consent"]')
    consent_box = page.locator("#field-topic_consent")
    expect(consent).to_be_hidden()
    expect(consent_box).to_be_disabled()  # a hidden field is never sent
    shots(page, "participation without topic")

    # the counter: "n / 1000", live while typing, announced politely
    counter = page.locator("#field-activities-counter")
    expect(counter).to_have_text("0 / 1000")
    assert counter.evaluate("e => e.closest('[aria-live]').getAttribute('aria-live')") == "polite"
    page.locator("#field-activities").press_sequentially("Bürgerräte")
    expect(counter).to_have_text("10 / 1000")
    page.locator("#field-activities").press_sequentially(" und mehr")
    expect(counter).to_have_text("19 / 1000")
    page.locator("#field-activities").fill(ACTIVITIES)
    expect(counter).to_have_text(f"{len(ACTIVITIES)} / 1000")
    shots(page, "counter after typing")

    # the consent appears with a topic and goes again without one — live, no page load
    requests_before = len(watch.requests)
    page.select_option("#field-topic", "transparenz")
    expect(consent).to_be_visible()
    expect(consent_box).to_be_enabled()
    expect(consent_box).to_have_attribute("aria-required", "true")
    page.check("#field-topic_consent")
    shots(page, "topic chosen consent shown and ticked")
    page.select_option("#field-topic", "")
    expect(consent).to_be_hidden()
    expect(consent_box).to_be_disabled()
    assert len(watch.requests) == requests_before, "showing and hiding must not load anything"
    assert page.url.endswith(f"{FORM}/step/participation")
    shots(page, "topic cleared consent gone")
    page.click("#next")

    page.wait_for_url(f"**{FORM}/review")
    expect(page.locator('[data-answer="name"]')).to_contain_text(PERSON["name"])
    expect(page.locator('[data-answer="topic"]')).to_contain_text("Keine Angabe")
    expect(page.locator('[data-answer="topic_consent"]')).to_have_count(0)
    shots(page, "review")
    submit_review(page)

    reference = page.locator("#reference").inner_text().strip()
    assert re.fullmatch(r"M-\d{4}-\d{5}", reference), reference  # reference_prefix "M"
    shots(page, "confirmation")
    submission = stored_submission(live_server, page)
    assert submission.reference == reference
    assert submission.language == "de"
    answers = dict(submission.answers)
    assert "topic_consent" not in answers, "the consent of a cleared topic must not be stored"
    assert answers["topic"] is None
    assert answers["request"] is True
    assert answers["activities"] == ACTIVITIES
    assert {k: answers[k] for k in PERSON} == PERSON
    assert {k: answers[k] for k in ADDRESS} == ADDRESS

    page.click("#status-link")
    page.wait_for_url("**/status/**")
    expect(page.locator("#reference")).to_have_text(reference)
    expect(page.locator("#status-state")).to_have_attribute("data-state", submission.state)
    form, workflow = definitions_of(live_server.db, submission)
    state = next(s for s in workflow.states if s.id == submission.state)
    expect(page.locator("#status-state")).to_have_text(
        localize(state.label, "de", form.default_language))
    events = page.locator("#status-history li[data-event]")
    expect(events).to_have_count(len(history(live_server.db, submission.id)))
    expect(events.first).to_have_attribute("data-event", "created")
    expect(events.first).to_contain_text("Antrag eingegangen")
    shots(page, "status page")
    watch.assert_clean()


def test_back_and_forth_and_resume_in_a_new_browser(
    chromium: Any, page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    page.goto(FORM)
    open_step(page, "person")
    fill_person(page)
    page.click("#next")
    open_step(page, "address")
    fill_address(page)
    shots(page, "address filled")
    page.click("#back")  # Zurück saves without validating

    open_step(page, "person")
    expect(page.locator("#back")).to_have_count(0)  # nothing before the first step
    expect(page.locator("#field-request")).to_be_checked()
    for name, value in PERSON.items():
        expect(page.locator(f"#field-{name}")).to_have_value(value)
    shots(page, "back on person answers kept")
    page.click("#next")

    open_step(page, "address")
    for name, value in ADDRESS.items():
        expect(page.locator(f"#field-{name}")).to_have_value(value)
    page.click("#next")

    open_step(page, "participation")
    fill_participation(page, topic="kompetenz")
    page.click("#back")
    open_step(page, "address")
    shots(page, "back from participation")
    page.click("#next")
    open_step(page, "participation")
    expect(page.locator("#field-activities")).to_have_value(ACTIVITIES)
    expect(page.locator("#field-topic")).to_have_value("kompetenz")
    expect(page.locator("#field-topic_consent")).to_be_checked()
    shots(page, "participation answers kept")
    page.click("#next")

    # edit links from the review: the step opens, "next" returns to the review
    page.wait_for_url(f"**{FORM}/review")
    shots(page, "review")
    page.click('a[data-change="town"]')
    page.wait_for_url(f"**{FORM}/step/address?return=review*")
    expect(page.locator("#field-town")).to_have_value(ADDRESS["town"])
    page.fill("#field-town", "Potsdam")
    expect(page.locator("#next")).to_have_text("Übernehmen und zurück zur Übersicht")
    shots(page, "changing town from review")
    page.click("#next")
    page.wait_for_url(f"**{FORM}/review")
    expect(page.locator('[data-answer="town"]')).to_contain_text("Potsdam")
    page.click('a[data-change="topic"]')
    page.wait_for_url(f"**{FORM}/step/participation?return=review*")
    page.select_option("#field-topic", "qualitaet")
    page.click("#next")
    page.wait_for_url(f"**{FORM}/review")
    expect(page.locator('[data-answer="topic"]')).to_contain_text("Qualität")
    expect(page.locator('[data-answer="topic_consent"]')).to_contain_text("Ja")
    shots(page, "review after changes")
    watch.assert_clean()

    # leave, and come back through the resume link in a browser that knows nothing
    resume_link = page.get_attribute("#resume-link", "href")
    assert resume_link and resume_link.startswith(live_server.url + "/resume/"), resume_link
    page.context.close()
    elsewhere = new_context(chromium, live_server)
    try:
        assert elsewhere.cookies() == []
        other = elsewhere.new_page()
        other.goto(resume_link)
        other.wait_for_url(f"**{FORM}/step/**")
        shots(other, "resumed in a new browser")
        expect(other.locator("#resume-link")).to_have_attribute("href", resume_link)
        other.goto(f"{FORM}/review")
        for name, value in {**PERSON, **ADDRESS, "town": "Potsdam"}.items():
            expect(other.locator(f'[data-answer="{name}"]')).to_contain_text(value)
        expect(other.locator('[data-answer="activities"]')).to_contain_text(ACTIVITIES)
        expect(other.locator('[data-answer="topic"]')).to_contain_text("Qualität")
        shots(other, "review after resuming")
        submit_review(other)
        submission = stored_submission(live_server, other)
        assert submission.answers["town"] == "Potsdam"
        assert submission.answers["topic"] == "qualitaet"
        assert submission.answers["topic_consent"] is True
    finally:
        elsewhere.close()


def _check_error_summary(page: Any, expected: dict[str, str]) -> None:
    """The summary is at the top, focused, and links to each field; messages sit beside them."""
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    assert page.title().startswith("Fehler:"), page.title()
    assert focused_id(page) == "error-summary"
    assert summary.get_attribute("role") == "alert"
    # at the top: before the form, and above every field
    assert summary.evaluate(
        "s => Boolean(s.compareDocumentPosition(document.getElementById('step-form'))"
        " & Node.DOCUMENT_POSITION_FOLLOWING)"
    )
    top = summary.bounding_box()
    form = page.locator("#step-form").bounding_box()
    assert top is not None and form is not None and top["y"] < form["y"]

    links = page.locator("#error-summary a[data-error-for]")
    linked = [links.nth(i).get_attribute("data-error-for") for i in range(links.count())]
    assert linked == list(expected)
    for field_id, message in expected.items():
        link = page.locator(f'#error-summary a[data-error-for="{field_id}"]')
        expect(link).to_contain_text(message)
        link.click()
        assert focused_id(page) == f"field-{field_id}", f"the link to {field_id} moves focus"
        wrapper = page.locator(f'[data-field="{field_id}"]')
        error = wrapper.locator(f"#field-{field_id}-error")
        expect(error).to_be_visible()
        expect(error).to_contain_text(message)
        control = page.locator(f"#field-{field_id}")
        expect(control).to_have_attribute("aria-invalid", "true")
        described = (control.get_attribute("aria-describedby") or "").split()
        assert f"field-{field_id}-error" in described
        # beside the field: the message is inside the field's box, next to its control
        box, message_box = wrapper.bounding_box(), error.bounding_box()
        assert box and message_box
        assert box["y"] <= message_box["y"] <= box["y"] + box["height"]


def test_errors_are_summarised_linked_and_shown_beside_the_fields(
    page: Any, shots: Shots, watch: Watch
) -> None:
    # pages with errors answer 422 on purpose; Chromium logs that as a failed load
    watch.expect_status(f"{FORM}/step/person", 422)
    watch.expect_status(f"{FORM}/step/address", 422)
    page.goto(FORM)
    open_step(page, "person")
    page.click("#next")
    page.wait_for_selector("#error-summary")
    shots(page, "person with errors")
    _check_error_summary(page, {
        "request": "Bitte bestätigen Sie dies",
        "name": "Bitte füllen Sie dieses Feld aus",
    })
    shots(page, "focus on name after the summary link")
    expect(page.locator("#field-institution")).not_to_have_attribute("aria-invalid", "true")

    fill_person(page)
    page.click("#next")
    open_step(page, "address")
    fill_address(page, {**ADDRESS, "postcode": "123", "email": "erika-at-example"})
    page.click("#next")
    page.wait_for_selector("#error-summary")
    shots(page, "address with errors")
    _check_error_summary(page, {
        "postcode": "fünfstellige Postleitzahl",
        "email": "E-Mail",
    })
    # what was typed is still there, to be corrected
    expect(page.locator("#field-postcode")).to_have_value("123")
    expect(page.locator("#field-town")).to_have_value(ADDRESS["town"])
    page.fill("#field-postcode", "10117")
    page.fill("#field-email", ADDRESS["email"])
    page.click("#next")
    open_step(page, "participation")
    shots(page, "corrected")
    watch.assert_clean()


def test_english_through_the_visible_language_switch(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    watch.expect_status(f"{FORM}/step/address", 422)
    page.goto("/")
    expect(page.locator("#lang-de")).to_have_attribute("aria-current", "true")
    page.click("#lang-en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#start-membership")).to_have_text("Start application")
    shots(page, "start page in english")
    page.click("#lang-de")  # and back, to switch again in the middle of a step
    expect(page.locator("html")).to_have_attribute("lang", "de")
    page.click("#start-membership")
    open_step(page, "person")
    expect(page.locator("#progress")).to_have_text("Schritt 1 von 3")
    fill_person(page)
    shots(page, "person typed in german")

    page.click("#lang-en")  # the script sends what was typed along (nothing is lost)
    expect(page.locator("html")).to_have_attribute("lang", "en")
    open_step(page, "person")
    expect(page.locator("#progress")).to_have_text("Step 1 of 3")
    expect(page.locator("#step-title")).to_have_text("Application and person")
    expect(page.locator("#field-request")).to_be_checked()
    for name, value in PERSON.items():
        expect(page.locator(f"#field-{name}")).to_have_value(value)
    expect(page.locator("#lang-en")).to_have_attribute("aria-current", "true")
    shots(page, "person in english answers kept")
    page.click("#next")

    open_step(page, "address")
    expect(page.locator("label[for=field-street]")).to_contain_text("Street and number")
    fill_address(page, {**ADDRESS, "postcode": "1234"})
    page.click("#next")
    page.wait_for_selector("#error-summary")
    assert page.title().startswith("Error:"), page.title()
    expect(page.locator("#field-postcode-error")).to_contain_text(
        "Please enter a five-digit postcode")
    shots(page, "address error in english")
    page.fill("#field-postcode", ADDRESS["postcode"])
    page.click("#next")

    open_step(page, "participation")
    expect(page.locator('[data-field="topic_consent"]')).to_be_hidden()
    page.select_option("#field-topic", label="Integrated participation")
    expect(page.locator('[data-field="topic_consent"]')).to_be_visible()
    expect(page.locator("label[for=field-topic_consent]")).to_contain_text(
        "We need your consent")
    fill_participation(page, topic="integrierte_partizipation")
    shots(page, "participation in english")
    page.click("#next")

    page.wait_for_url(f"**{FORM}/review")
    expect(page.locator("#review-title")).to_have_text("Check your answers")
    expect(page.locator('[data-answer="topic"]')).to_contain_text("Integrated participation")
    expect(page.locator('[data-answer="topic_consent"]')).to_contain_text("Yes")
    shots(page, "review in english")
    submit_review(page)
    expect(page.locator("#confirmation h1")).to_have_text("Application sent")
    shots(page, "confirmation in english")
    submission = stored_submission(live_server, page)
    assert submission.language == "en"
    assert submission.answers["topic"] == "integrierte_partizipation"

    page.click("#status-link")
    page.wait_for_url("**/status/**")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#status-history li").first).to_contain_text("Application received")
    shots(page, "status in english")
    watch.assert_clean()


def test_without_javascript_the_server_decides_on_every_render(
    chromium: Any, live_server: LiveServer, shots: Shots
) -> None:
    context = new_context(chromium, live_server, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto(FORM)
        open_step(page, "person")
        fill_person(page)
        page.click("#next")
        open_step(page, "address")
        fill_address(page)
        page.click("#next")

        open_step(page, "participation")
        consent = page.locator('[data-field="topic_consent"]')
        expect(consent).to_be_hidden()
        # the server rendered the initial count; nothing updates it without the script
        expect(page.locator("#field-activities-counter")).to_have_text("0 / 1000")
        page.fill("#field-activities", ACTIVITIES)
        page.select_option("#field-topic", "beteiligung")
        expect(consent).to_be_hidden()  # no script: nothing changes until the page is sent
        expect(page.locator("#field-activities-counter")).to_have_text("0 / 1000")
        shots(page, "topic chosen nothing happens yet")
        page.click("#next")

        # the next render shows the consent, now required and missing
        page.wait_for_selector("#error-summary")
        open_step(page, "participation")
        expect(consent).to_be_visible()
        expect(page.locator("#field-topic_consent")).to_be_enabled()
        expect(page.locator("#field-topic_consent-error")).to_be_visible()
        expect(page.locator("#field-topic")).to_have_value("beteiligung")
        expect(page.locator("#field-activities-counter")).to_have_text(
            f"{len(ACTIVITIES)} / 1000")
        shots(page, "consent shown by the server")
        page.check("#field-topic_consent")
        page.click("#next")

        page.wait_for_url(f"**{FORM}/review")
        expect(page.locator('[data-answer="topic_consent"]')).to_contain_text("Ja")
        shots(page, "review with consent")

        # clearing the topic on the server drops the consent with it
        page.click('a[data-change="topic"]')
        page.wait_for_url(f"**{FORM}/step/participation?return=review*")
        page.select_option("#field-topic", "")
        page.click("#next")
        page.wait_for_url(f"**{FORM}/review")
        expect(page.locator('[data-answer="topic_consent"]')).to_have_count(0)
        shots(page, "review without topic")

        # choosing again shows the consent again, unticked: it was dropped, not hidden
        page.click('a[data-change="topic"]')
        page.wait_for_url(f"**{FORM}/step/participation?return=review*")
        expect(consent).to_be_hidden()
        page.select_option("#field-topic", "qualitaet")
        page.click("#next")
        page.wait_for_selector("#field-topic_consent-error")
        expect(page.locator("#field-topic_consent")).not_to_be_checked()
        page.check("#field-topic_consent")
        page.click("#next")
        submit_review(page)
        shots(page, "confirmation")
        submission = stored_submission(live_server, page)
        assert submission.answers["topic"] == "qualitaet"
        assert submission.answers["topic_consent"] is True
        assert submission.answers["activities"] == ACTIVITIES
        page.click("#status-link")
        page.wait_for_url("**/status/**")
        expect(page.locator("#status-state")).to_have_attribute("data-state", submission.state)
        shots(page, "status page")
    finally:
        context.close()
