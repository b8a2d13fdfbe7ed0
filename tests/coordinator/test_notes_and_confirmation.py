"""The submission page's two texts (message to the applicant, internal note) and the
confirmation a final decision asks for before it is taken (the way without JavaScript)."""

from __future__ import annotations

import html
import re

from flask import Flask

from engine.services import Database, fire_transition, get_submission, history, submit
from support.coordinator import COORDINATOR, Staff, answers, post_form
from support.signin import csrf_field


def _textarea(page: str, name: str) -> str:
    found = re.search(rf'<textarea id="{name}"[^>]*>(.*?)</textarea>', page, re.S)
    assert found
    return html.unescape(found.group(1))


def test_the_form_labels_both_texts(app: Flask, db: Database) -> None:
    created = submit(db, "grant", answers(), "de")
    page = Staff(app).client(COORDINATOR).get(f"/inbox/{created.id}").get_data(as_text=True)
    assert '<label for="comment">Nachricht an Antragsteller:in</label>' in page
    assert '<label for="note">Interne Notiz</label>' in page
    assert "Wird der Antragsteller:in nie gezeigt." in page
    english = Staff(app).client(COORDINATOR).get(f"/inbox/{created.id}?lang=en")
    text = english.get_data(as_text=True)
    assert '<label for="comment">Message to the applicant</label>' in text
    assert '<label for="note">Internal note</label>' in text


def test_a_transition_stores_comment_and_note_apart_and_the_timeline_marks_them(
    app: Flask, db: Database
) -> None:
    created = submit(db, "grant", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    url = f"/inbox/{created.id}"
    response = post_form(client, url, url, {"transition": "review",
                                            "comment": "Danke, wir prüfen.",
                                            "note": "Alter nachprüfen",
                                            "expected_state": "submitted"})
    assert response.status_code == 303
    last = history(db, created.id)[-1]
    assert (last.comment, last.note) == ("Danke, wir prüfen.", "Alter nachprüfen")
    page = client.get(url).get_data(as_text=True)
    comment = re.search(r'<div class="entry-comment">(.*?)</div>', page, re.S)
    note = re.search(r'<div class="entry-note">(.*?)</div>', page, re.S)
    assert comment and "Nachricht an Antragsteller:in" in comment.group(1)
    assert "Danke, wir prüfen." in comment.group(1)
    assert note and "Interne Notiz" in note.group(1) and "Alter nachprüfen" in note.group(1)


def test_note_only_is_an_internal_note_and_a_lone_message_is_refused(
    app: Flask, db: Database
) -> None:
    created = submit(db, "grant", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    url = f"/inbox/{created.id}"
    response = post_form(client, url, url, {"comment_only": "1", "note": "Rückruf morgen"})
    assert response.status_code == 303
    last = history(db, created.id)[-1]
    assert (last.kind, last.comment, last.note) == ("comment", None, "Rückruf morgen")

    events = len(history(db, created.id))
    refused = post_form(client, url, url, {"comment_only": "1", "comment": "Hallo"})
    assert refused.status_code == 422
    assert _textarea(refused.get_data(as_text=True), "comment") == "Hallo"
    assert len(history(db, created.id)) == events


def test_a_final_decision_asks_first_and_back_keeps_the_texts(app: Flask, db: Database) -> None:
    created = submit(db, "grant", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    url = f"/inbox/{created.id}"
    events = len(history(db, created.id))
    asked = post_form(client, url, url, {"transition": "reject", "comment": "Leider nein.",
                                         "note": "Budget ausgeschöpft",
                                         "expected_state": "submitted"})
    assert asked.status_code == 200
    page = asked.get_data(as_text=True)
    assert 'id="confirm-question"' in page and "„Ablehnen“" in page and "Abgelehnt" in page
    confirm_form = page[page.index('id="confirm-question"'):]
    assert csrf_field(confirm_form)  # the confirmation's own form carries the CSRF token
    assert get_submission(db, created.id).state == "submitted"
    assert len(history(db, created.id)) == events

    back = client.post(url, data={**csrf_field(page), "transition": "reject", "back": "1",
                                  "comment": "Leider nein.", "note": "Budget ausgeschöpft",
                                  "expected_state": "submitted"})
    assert back.status_code == 200
    assert _textarea(back.get_data(as_text=True), "comment") == "Leider nein."
    assert _textarea(back.get_data(as_text=True), "note") == "Budget ausgeschöpft"
    assert get_submission(db, created.id).state == "submitted"

    done = client.post(url, data={**csrf_field(page), "transition": "reject", "confirmed": "1",
                                  "comment": "Leider nein.", "note": "Budget ausgeschöpft",
                                  "expected_state": "submitted"})
    assert done.status_code == 303
    last = history(db, created.id)[-1]
    assert (last.transition, last.comment, last.note) == ("reject", "Leider nein.",
                                                           "Budget ausgeschöpft")
    assert get_submission(db, created.id).state == "rejected"


def test_the_confirmation_needs_a_valid_csrf_token(app: Flask, db: Database) -> None:
    created = submit(db, "grant", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    url = f"/inbox/{created.id}"
    client.get(url)
    response = client.post(url, data={"csrf_token": "stale", "transition": "reject",
                                      "confirmed": "1", "comment": "x"})
    assert response.status_code == 400
    assert get_submission(db, created.id).state == "submitted"


def test_a_refused_final_decision_is_refused_before_asking(app: Flask, db: Database) -> None:
    created = submit(db, "grant", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    url = f"/inbox/{created.id}"
    # "reject" needs a message: refused at once, no confirmation question
    response = post_form(client, url, url, {"transition": "reject", "note": "intern",
                                            "expected_state": "submitted"})
    assert response.status_code == 422
    assert 'id="confirm-question"' not in response.get_data(as_text=True)
    fire_transition(db, created.id, "review", actor=COORDINATOR, roles=["coordinator"])
    # a stale page: the usual 409, not a question
    stale = post_form(client, url, url, {"transition": "reject", "comment": "x",
                                         "expected_state": "submitted"})
    assert stale.status_code == 409
    assert get_submission(db, created.id).state == "reviewed"


def test_a_non_final_step_is_taken_without_a_question(app: Flask, db: Database) -> None:
    created = submit(db, "grant", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    url = f"/inbox/{created.id}"
    page = client.get(url).get_data(as_text=True)
    assert re.search(r'data-transition="reject"\s+data-final="true"', page)
    assert not re.search(r'data-transition="review"\s+data-final', page)
    response = post_form(client, url, url, {"transition": "review",
                                            "expected_state": "submitted"})
    assert response.status_code == 303
