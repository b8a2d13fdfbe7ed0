"""One submission's page: pinned labels, timeline, exactly the allowed buttons, safe actions."""

from __future__ import annotations

import copy
import html
import re

from flask import Flask

from engine.services import (
    Database,
    fire_transition,
    get_submission,
    history,
    import_definition,
    mark_failed,
    mark_sent,
    notifications_for,
    publish_form,
    publish_workflow,
    submit,
)
from support.coordinator import (
    ADMIN,
    COORDINATOR,
    OTHER_COORDINATOR,
    WORKFLOW,
    Staff,
    answers,
    form,
    post_form,
)
from support.signin import csrf_field


def _buttons(page: str) -> list[str]:
    return re.findall(r'data-transition="([a-z_]+)"', page)


def _textarea(page: str) -> str:
    found = re.search(r'<textarea id="comment"[^>]*>(.*?)</textarea>', page, re.S)
    assert found
    return html.unescape(found.group(1))


def _state(page: str) -> str:
    found = re.search(r'id="current-state" data-state="([a-z_]+)"', page)
    assert found
    return found.group(1)


def test_answers_show_the_labels_of_the_pinned_version(app: Flask, db: Database) -> None:
    created = submit(db, "grant", answers(), "de")
    relabelled = form()
    relabelled["steps"][0]["fields"][0]["label"] = {"de": "Vollständiger Name",
                                                    "en": "Full name"}
    relabelled["steps"][1]["fields"][0]["options"][0]["label"] = {"de": "Kunst", "en": "Art"}
    import_definition(db, relabelled, "form")
    publish_form(db, "grant")
    newer = submit(db, "grant", answers(), "de")

    client = Staff(app).client(COORDINATOR)
    page = client.get(f"/inbox/{created.id}").get_data(as_text=True)
    assert '<dt id="label-name">Name</dt>' in page
    assert "Vollständiger Name" not in page
    assert '<dd data-field="topic">Kultur</dd>' in page  # option label of version 1
    assert "Förderantrag (" in page and "1)" in page
    assert '<dd data-field="age">36</dd>' in page

    page = client.get(f"/inbox/{newer.id}").get_data(as_text=True)
    assert '<dt id="label-name">Vollständiger Name</dt>' in page
    assert '<dd data-field="topic">Kunst</dd>' in page


def test_answers_follow_the_page_language(app: Flask, db: Database) -> None:
    created = submit(db, "grant", answers(), "de")
    page = Staff(app).client(COORDINATOR).get(f"/inbox/{created.id}?lang=en")
    text = page.get_data(as_text=True)
    assert '<dt id="label-age">Age</dt>' in text and '<dd data-field="topic">Culture</dd>' in text


def test_buttons_are_exactly_the_transitions_this_user_may_fire(app: Flask, db: Database) -> None:
    adult = submit(db, "grant", answers(age="36"), "de")
    child = submit(db, "grant", answers(age="12"), "de")
    coordinator = Staff(app).client(COORDINATOR)
    admin = Staff(app).client(ADMIN)
    assert _buttons(coordinator.get(f"/inbox/{adult.id}").get_data(as_text=True)) == [
        "review", "fast_track", "reject"]
    # the guard (age >= 18) fails: fast_track is not offered
    assert _buttons(coordinator.get(f"/inbox/{child.id}").get_data(as_text=True)) == [
        "review", "reject"]
    fire_transition(db, adult.id, "review", actor=COORDINATOR, roles=["coordinator"])
    assert _buttons(coordinator.get(f"/inbox/{adult.id}").get_data(as_text=True)) == [
        "accept", "reject"]
    # admin passes every role check, including the custom role's transition
    assert _buttons(admin.get(f"/inbox/{adult.id}").get_data(as_text=True)) == [
        "accept", "reject", "override"]
    fire_transition(db, adult.id, "accept", actor=COORDINATOR, roles=["coordinator"])
    assert _buttons(coordinator.get(f"/inbox/{adult.id}").get_data(as_text=True)) == []


def test_firing_a_transition_redirects_and_records_it(app: Flask, db: Database) -> None:
    created = submit(db, "grant", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    url = f"/inbox/{created.id}"
    response = post_form(client, url, url, {"transition": "review", "comment": "Sieht gut aus",
                                            "expected_state": "submitted"})
    assert response.status_code == 303
    assert response.headers["Location"] == url
    page = client.get(url).get_data(as_text=True)
    assert _state(page) == "reviewed"
    assert 'role="status"' in page  # the confirmation
    assert "Sieht gut aus" in page
    last = history(db, created.id)[-1]
    assert (last.kind, last.transition, last.actor, last.comment) == (
        "transition", "review", COORDINATOR, "Sieht gut aus")


def test_missing_required_comment_keeps_the_page_and_changes_nothing(
    app: Flask, db: Database
) -> None:
    created = submit(db, "grant", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    url = f"/inbox/{created.id}"
    response = post_form(client, url, url, {"transition": "reject", "comment": "   ",
                                            "expected_state": "submitted"})
    assert response.status_code == 422
    assert 'role="alert"' in response.get_data(as_text=True)
    assert get_submission(db, created.id).state == "submitted"


def test_comment_where_none_is_allowed_is_refused_and_kept(app: Flask, db: Database) -> None:
    created = submit(db, "grant", answers(), "de")
    fire_transition(db, created.id, "review", actor=COORDINATOR, roles=["coordinator"])
    client = Staff(app).client(COORDINATOR)
    url = f"/inbox/{created.id}"
    typed = "Bitte <b>nicht</b> verlieren\nzweite Zeile"
    response = post_form(client, url, url, {"transition": "accept", "comment": typed,
                                            "expected_state": "reviewed"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert _textarea(page) == typed
    assert "<b>nicht</b>" not in page  # escaped, not markup
    assert get_submission(db, created.id).state == "reviewed"


def test_stale_state_is_a_clear_409_that_keeps_the_typed_comment(
    app: Flask, db: Database
) -> None:
    created = submit(db, "grant", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    url = f"/inbox/{created.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'name="expected_state" value="submitted"' in page
    # meanwhile, another coordinator reviews it
    other = Staff(app).client(OTHER_COORDINATOR)
    assert post_form(other, url, url, {"transition": "review",
                                       "expected_state": "submitted"}).status_code == 303
    typed = "Leider unvollständig: es fehlt der Finanzplan."
    events_before = len(history(db, created.id))
    response = client.post(url, data={**csrf_field(page), "transition": "reject",
                                      "comment": typed, "expected_state": "submitted"})
    assert response.status_code == 409
    answer = response.get_data(as_text=True)
    assert 'role="alert"' in answer
    assert _textarea(answer) == typed
    assert _state(answer) == "reviewed"  # the page shows what is true now
    assert 'name="expected_state" value="reviewed"' in answer  # ready to decide again
    assert len(history(db, created.id)) == events_before
    assert get_submission(db, created.id).state == "reviewed"


def test_transition_not_possible_any_more_is_409_not_a_crash(app: Flask, db: Database) -> None:
    created = submit(db, "grant", answers(), "de")
    fire_transition(db, created.id, "reject", actor=ADMIN, roles=["admin"], comment="nein")
    client = Staff(app).client(COORDINATOR)
    url = f"/inbox/{created.id}"
    response = post_form(client, url, url, {"transition": "review", "comment": "x"})
    assert response.status_code == 409
    assert _textarea(response.get_data(as_text=True)) == "x"
    response = post_form(client, url, url, {"transition": "no_such_step", "comment": "y"})
    assert response.status_code == 409


def test_role_without_the_transition_gets_403_and_keeps_the_comment(
    app: Flask, db: Database
) -> None:
    created = submit(db, "grant", answers(), "de")
    fire_transition(db, created.id, "review", actor=COORDINATOR, roles=["coordinator"])
    client = Staff(app).client(COORDINATOR)
    url = f"/inbox/{created.id}"
    response = post_form(client, url, url, {"transition": "override", "comment": "z",
                                            "expected_state": "reviewed"})
    assert response.status_code == 403
    assert _textarea(response.get_data(as_text=True)) == "z"


def test_comment_only_adds_a_comment_and_keeps_the_state(app: Flask, db: Database) -> None:
    created = submit(db, "grant", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    url = f"/inbox/{created.id}"
    response = post_form(client, url, url, {"comment_only": "1", "note": "Rückruf morgen",
                                            "expected_state": "submitted"})
    assert response.status_code == 303
    last = history(db, created.id)[-1]
    assert (last.kind, last.note, last.comment, last.actor) == (
        "comment", "Rückruf morgen", None, COORDINATOR)
    assert get_submission(db, created.id).state == "submitted"
    empty = post_form(client, url, url, {"comment_only": "1", "note": "  "})
    assert empty.status_code == 422


def test_expired_csrf_token_keeps_the_comment(app: Flask, db: Database) -> None:
    created = submit(db, "grant", answers(), "de")
    client = Staff(app).client(COORDINATOR)
    url = f"/inbox/{created.id}"
    response = client.post(url, data={"_csrf_token": "stale", "transition": "review",
                                      "comment": "mein Text"})
    assert response.status_code == 400
    assert _textarea(response.get_data(as_text=True)) == "mein Text"
    assert get_submission(db, created.id).state == "submitted"


def test_timeline_shows_events_comments_and_notification_outcomes(
    app: Flask, db: Database
) -> None:
    created = submit(db, "grant", answers(), "de")
    fire_transition(db, created.id, "fast_track", actor=COORDINATOR, roles=["coordinator"],
                    comment="Schnell durch")
    received, accepted = notifications_for(db, created.id)
    mark_sent(db, received.id)
    mark_failed(db, accepted.id, "SMTP 550 mailbox unavailable", final=True)
    page = Staff(app).client(COORDINATOR).get(f"/inbox/{created.id}").get_data(as_text=True)
    timeline = page[page.index('class="timeline"'):]
    assert timeline.index("applicant") < timeline.index(COORDINATOR)  # oldest first
    assert "Schnell durch" in timeline
    assert 'class="notification notification-sent"' in timeline
    assert 'class="notification notification-failed"' in timeline
    assert "SMTP 550 mailbox unavailable" in timeline
    assert "ada@example.org" in timeline


def test_a_webhook_receivers_reply_is_shown_to_administrators_only(
    app: Flask, db: Database
) -> None:
    """The reply may come from a service inside the network: not for every coordinator."""
    hooked = copy.deepcopy(WORKFLOW)
    hooked["notifications"].append({"on": "*", "webhook": "https://hooks.example.org/in",
                                    "secret_env": "FORMFLOW_WEBHOOK_SECRET"})
    import_definition(db, hooked, "workflow")
    publish_workflow(db, "triage")
    created = submit(db, "grant", answers(), "de")
    [hook] = [row for row in notifications_for(db, created.id) if row.channel == "webhook"]
    reply = "webhook https://hooks.example.org/in answered HTTP 400: -ERR internal detail"
    mark_failed(db, hook.id, reply, final=True)

    def timeline(email: str) -> str:
        page = Staff(app).client(email).get(f"/inbox/{created.id}").get_data(as_text=True)
        return html.unescape(page[page.index('class="timeline"'):])

    seen_by_coordinator = timeline(COORDINATOR)
    assert "Webhook: fehlgeschlagen nach 1 Versuch(en)" in seen_by_coordinator
    assert "-ERR internal detail" not in seen_by_coordinator
    assert "hooks.example.org" not in seen_by_coordinator
    assert f"Webhook: fehlgeschlagen nach 1 Versuch(en): {reply}" in timeline(ADMIN)


def test_unknown_submission_is_404(app: Flask) -> None:
    client = Staff(app).client(COORDINATOR)
    assert client.get("/inbox/" + "0" * 32).status_code == 404
    assert client.get("/inbox/" + "x" * 200).status_code == 404
