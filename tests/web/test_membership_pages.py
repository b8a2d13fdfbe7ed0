"""The membership application from start page to status page, as an applicant without
JavaScript experiences it (the server's evaluation decides everything)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from engine.services import Database, history, submission_for_token
from support.web import Browser, element, text_of, wrapper

PERSON = {"request": "true", "name": "Erika Mustermann", "institution": "Stadt Musterstadt",
          "function": "Referentin für Bürgerbeteiligung"}
ADDRESS = {"street": "Unter den Linden 1", "postcode": "10117", "town": "Berlin",
           "phone": "030 123456", "email": "erika@example.org"}


def start_membership(browser: Browser, lang: str = "") -> None:
    query = f"?lang={lang}" if lang else ""
    browser.get(f"/{query}")
    link = re.search(r'id="start-membership" href="([^"]+)"', browser.page)
    assert link, "the start page links to the membership form"
    browser.get(link.group(1))
    assert browser.path == "/f/membership/step/person"


def status_token(page: str) -> str:
    found = re.search(r'id="status-link" href="[^"]*/status/([^"]+)"', page)
    assert found, "the confirmation links to the status page"
    return found.group(1)


def test_german_flow_from_start_page_to_status_page(browser: Browser, db: Database) -> None:
    start_membership(browser)
    page = browser.page
    assert '<html lang="de">' in page
    assert "Schritt 1 von 3" in text_of(page)
    assert "Antrag und Person" in page
    assert 'id="back"' not in page  # nothing before the first step

    # Weiter with nothing filled in: the engine's messages, a summary, nothing lost
    browser.step("membership", "person", {"name": "  "})
    assert browser.status == 422
    page = browser.page
    summary = element(page, "error-summary")
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary and "autofocus" in summary
    assert 'href="#field-request"' in page and 'href="#field-name"' in page
    assert "Bitte bestätigen Sie dies, um fortzufahren." in page
    assert "Bitte füllen Sie dieses Feld aus." in page
    name_input = element(page, "field-name")
    assert 'aria-invalid="true"' in name_input
    assert "field-name-error" in name_input
    assert 'id="field-name-error"' in page
    assert 'href="#field-institution"' not in page  # optional fields are not errors

    browser.step("membership", "person", PERSON)
    assert browser.path == "/f/membership/step/address"
    assert "Schritt 2 von 3" in text_of(browser.page)
    assert 'id="resume-link"' in browser.page  # the draft exists from now on

    # a wrong postcode: the form's own pattern message, only for this step's fields
    browser.step("membership", "address", {**ADDRESS, "postcode": "1011"})
    assert browser.status == 422
    assert "Bitte geben Sie eine fünfstellige Postleitzahl ein, zum Beispiel 10117." in browser.page
    assert 'value="1011"' in browser.page  # what was typed is shown again
    browser.step("membership", "address", ADDRESS)
    assert browser.path == "/f/membership/step/participation"
    assert "Schritt 3 von 3" in text_of(browser.page)

    # Zurück never validates and never loses answers, in either direction
    browser.step("membership", "participation",
                 {"activities": "Ich leite Bürgerräte.", "topic": ""}, action="back")
    assert browser.path == "/f/membership/step/address"
    assert 'value="10117"' in browser.page and 'value="erika@example.org"' in browser.page
    browser.step("membership", "address", action="back")  # nothing sent: fields come empty
    assert browser.path == "/f/membership/step/person"
    assert 'value="Erika Mustermann"' in browser.page
    assert "checked" in element(browser.page, "field-request")
    browser.step("membership", "person", PERSON)
    browser.step("membership", "address", ADDRESS)
    page = browser.page
    assert "Ich leite Bürgerräte.</textarea>" in page
    assert 'data-counter-for="activities"' in page
    assert "21 / 1000" in text_of(page)

    # the consent appears only after choosing a topic, and is then required
    consent = wrapper(page, "topic_consent")
    assert "hidden" in consent
    assert re.search(r'<input[^>]*disabled[^>]*id="field-topic_consent"', page)
    assert "data-formflow-disabled" in element(page, "field-topic_consent")
    select = element(page, "field-topic")
    assert "<select" in select
    assert '<option selected value="">Bitte wählen (freiwillig)</option>' in page \
        or '<option value="">Bitte wählen (freiwillig)</option>' in page
    browser.step("membership", "participation",
                 {"activities": "Ich leite Bürgerräte.", "topic": "transparenz"})
    assert browser.status == 422
    page = browser.page
    assert "hidden" not in wrapper(page, "topic_consent")
    assert "Bitte bestätigen Sie dies, um fortzufahren." in page
    assert 'href="#field-topic_consent"' in page
    assert "<option selected value=\"transparenz\">" in page
    browser.step("membership", "participation", {
        "activities": "Ich leite Bürgerräte.", "topic": "transparenz", "topic_consent": "true",
    })
    assert browser.path == "/f/membership/review"

    # review: every visible answer in words, with a way back to its step
    page = browser.page
    words = text_of(page)
    for expected in ("Erika Mustermann", "Stadt Musterstadt", "10117", "erika@example.org",
                     "Transparenz", "Ich leite Bürgerräte."):
        assert expected in words
    assert re.search(r'data-answer="request".*?<dd class="ff-answer-value">Ja', page, re.S)
    assert 'data-answer="topic_consent"' in page
    change = re.search(r'href="([^"]+)" data-change="topic"', page)
    assert change and "/f/membership/step/participation" in change.group(1)
    assert "return=review" in change.group(1) and change.group(1).endswith("#field-topic")

    # "Ändern": clear the topic — the consent disappears and is dropped with it
    browser.get(change.group(1).replace("&amp;", "&"))
    assert 'name="_return" value="review"' in browser.page
    browser.step("membership", "participation", {
        "activities": "Ich leite Bürgerräte.", "topic": "", "topic_consent": "true",
    }, _return="review")
    assert browser.path == "/f/membership/review"
    assert 'data-answer="topic_consent"' not in browser.page
    assert "Keine Angabe" in text_of(browser.page)

    # the final submit: stored through the services, exactly the visible answers
    browser.submit("membership")
    assert browser.path == "/f/membership/confirmation"
    page = browser.page
    reference = re.search(r'id="reference">([^<]+)<', page)
    assert reference and reference.group(1) == f"M-{datetime.now(UTC).year}-00001"
    assert "Vielen Dank für Ihren Antrag auf Mitgliedschaft." in page
    token = status_token(page)
    submission = submission_for_token(db, token)
    assert submission is not None and submission.reference == reference.group(1)
    assert submission.language == "de"
    assert dict(submission.answers) == {
        "request": True, "name": "Erika Mustermann", "institution": "Stadt Musterstadt",
        "function": "Referentin für Bürgerbeteiligung", "street": "Unter den Linden 1",
        "postcode": "10117", "town": "Berlin", "phone": "030 123456",
        "email": "erika@example.org", "activities": "Ich leite Bürgerräte.", "topic": None,
    }
    assert [e.kind for e in history(db, submission.id)] == ["created"]

    # the status page behind the secret link, in plain words
    browser.get(f"/status/{token}")
    assert browser.status == 200
    page = browser.page
    assert 'data-state="submitted"' in element(page, "status-state")
    assert "Eingegangen" in page
    assert "Antrag eingegangen – Status: Eingegangen" in text_of(page)
    assert reference.group(1) in page


def test_english_flow(browser: Browser, db: Database) -> None:
    start_membership(browser, lang="en")
    assert '<html lang="en">' in browser.page
    assert "Step 1 of 3" in text_of(browser.page)
    assert "Application and person" in browser.page
    browser.step("membership", "person", {})
    assert browser.status == 422
    assert "Please fill in this field." in browser.page
    assert "Please tick this box to continue." in browser.page
    assert "Please check the following:" in browser.page
    browser.step("membership", "person", PERSON)
    assert "Step 2 of 3" in text_of(browser.page)
    assert "Street and number" in browser.page
    browser.step("membership", "address", ADDRESS)
    browser.step("membership", "participation", {"topic": "qualitaet"})
    assert browser.status == 422
    assert "We need your consent for this" in browser.page
    browser.step("membership", "participation", {"topic": "qualitaet", "topic_consent": "true"})
    assert browser.path == "/f/membership/review"
    assert "Check your answers" in browser.page
    assert "Quality" in text_of(browser.page) and "Not answered" in text_of(browser.page)
    browser.submit("membership")
    page = browser.page
    assert "Application sent" in page
    assert "Thank you for your membership application." in page
    token = status_token(page)
    submission = submission_for_token(db, token)
    assert submission is not None
    assert submission.language == "en"
    assert submission.answers["topic"] == "qualitaet"
    assert submission.answers["topic_consent"] is True
    browser.get(f"/status/{token}")
    assert "Submitted" in browser.page
    assert "Application received – status: Submitted" in text_of(browser.page)


def test_language_switch_keeps_the_place_and_the_answers(browser: Browser) -> None:
    start_membership(browser)
    browser.step("membership", "person", PERSON)
    assert browser.path == "/f/membership/step/address"
    switch = re.search(r'id="lang-en" href="([^"]+)"', browser.page)
    assert switch and switch.group(1) == "/f/membership/step/address?lang=en"
    browser.get(switch.group(1))
    assert browser.path == "/f/membership/step/address"
    assert "Step 2 of 3" in text_of(browser.page)
    # the script's variant: send what is typed, saved without validation, same step
    browser.step("membership", "address", {"postcode": "99", "town": "Potsdam"},
                 action="lang:de")
    assert browser.path == "/f/membership/step/address"
    page = browser.page
    assert '<html lang="de">' in page and "Schritt 2 von 3" in text_of(page)
    assert 'value="99"' in page and 'value="Potsdam"' in page
    assert 'id="error-summary"' not in page  # switching language never validates
    browser.get("/f/membership/step/person")
    assert '<html lang="de">' in browser.page  # remembered for the following pages


def test_status_page_of_an_unknown_token_is_a_404_page(browser: Browser) -> None:
    browser.get("/status/not-a-real-token")
    assert browser.status == 404
    assert "Seite nicht gefunden" in browser.page
    assert "Traceback" not in browser.page


def test_status_page_shows_transitions_in_plain_words(browser: Browser, db: Database) -> None:
    from engine.services import fire_transition

    start_membership(browser)
    browser.step("membership", "person", PERSON)
    browser.step("membership", "address", ADDRESS)
    browser.step("membership", "participation", {})
    browser.submit("membership")
    token = status_token(browser.page)
    submission = submission_for_token(db, token)
    assert submission is not None
    fire_transition(db, submission.id, "reject", actor="coord@example.org",
                    roles=("coordinator",), comment="Leider sind alle Plätze vergeben.")
    browser.get(f"/status/{token}")
    page = browser.page
    assert 'data-state="rejected"' in element(page, "status-state")
    words = text_of(page)
    assert "Status geändert auf: Abgelehnt" in words
    assert "Leider sind alle Plätze vergeben." in words
    assert "coord@example.org" not in page  # who did it stays internal
    assert 'id="status-final"' in page


def test_status_page_leaves_assignments_out(browser: Browser, db: Database) -> None:
    """Who works on the application is internal, as in the JSON API (issue 18)."""
    from engine.services import create_user
    from engine.services.inbox import assign_submission

    start_membership(browser)
    browser.step("membership", "person", PERSON)
    browser.step("membership", "address", ADDRESS)
    browser.step("membership", "participation", {})
    browser.submit("membership")
    token = status_token(browser.page)
    submission = submission_for_token(db, token)
    assert submission is not None
    coordinator = create_user(db, "coord@example.org", ["coordinator"], "a long password 1")
    assign_submission(db, submission.id, coordinator.id, actor="lead@example.org")
    assert [e.kind for e in history(db, submission.id)] == ["created", "assignment"]
    browser.get(f"/status/{token}")
    page = browser.page
    assert 'data-event="assignment"' not in page
    assert "Status geändert auf" not in text_of(page)
    assert "coord@example.org" not in page
    assert len(re.findall(r"<li data-event=", page)) == 1


def submit_membership_application(browser: Browser, lang: str = "") -> str:
    """The whole form sent; the confirmation page shown. Returns the status token."""
    start_membership(browser, lang)
    browser.step("membership", "person", PERSON)
    browser.step("membership", "address", ADDRESS)
    browser.step("membership", "participation", {})
    browser.submit("membership")
    assert browser.path == "/f/membership/confirmation"
    return status_token(browser.page)


def test_the_confirmation_does_not_claim_the_status_link_is_only_shown_there(
    browser: Browser,
) -> None:
    """The receipt mail carries the status link too (issue 18)."""
    submit_membership_application(browser)
    words = text_of(browser.page)
    assert "nur hier" not in words
    assert "Bewahren Sie ihn gut auf" in words
    browser.get("/f/membership/confirmation?lang=en")
    words = text_of(browser.page)
    assert "only shown here" not in words
    assert "Keep it safe" in words


def test_coming_back_to_the_form_after_sending_shows_what_was_sent(browser: Browser) -> None:
    """Browser "back" from the confirmation lands on the first step (the draft is gone): it
    says the application was sent, with its reference and status link, and offers a new one
    (issue 18)."""
    token = submit_membership_application(browser)
    reference = re.search(r'id="reference">([^<]+)<', browser.page)
    assert reference
    browser.get("/f/membership/review")  # what "back" asks for first
    assert browser.path == "/f/membership/step/person"
    notice = submitted_notice(browser.page)
    assert "Ihr Antrag wurde gesendet" in text_of(notice)
    assert reference.group(1) in text_of(notice)
    assert f'id="submitted-status-link" href="http://localhost/status/{token}"' in notice
    browser.get("/f/membership/step/person?lang=en")
    assert "Your application has been sent" in text_of(submitted_notice(browser.page))

    browser.post("/f/membership/new")  # "Start a new application"
    assert browser.path == "/f/membership/step/person"
    assert 'id="submitted-notice"' not in browser.page
    assert browser.client.get("/f/membership/confirmation").status_code == 302


def test_the_notice_is_not_shown_to_a_browser_that_sent_nothing(browser: Browser) -> None:
    start_membership(browser)
    assert 'id="submitted-notice"' not in browser.page


def submitted_notice(page: str) -> str:
    found = re.search(r'<div[^>]*id="submitted-notice".*?</div>', page, re.S)
    assert found, "no notice of the sent application"
    return found.group(0)
