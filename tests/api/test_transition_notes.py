"""A transition's ``note`` is internal: staff tokens read it, an applicant's token never."""

from __future__ import annotations

from engine.services import history
from support.api import Api, assert_error
from support.postgres import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS


def test_a_note_is_stored_and_read_by_staff_only(api: Api) -> None:
    created = api.submit()

    response = api.fire(created["id"], "review", comment="Wir prüfen Ihren Antrag.",
                        note="Finanzplan fehlt, nachfragen")
    assert response.status_code == 200
    last = response.get_json()["history"][-1]
    assert (last["comment"], last["note"]) == ("Wir prüfen Ihren Antrag.",
                                               "Finanzplan fehlt, nachfragen")
    event = history(api.db, created["id"])[-1]
    assert (event.comment, event.note) == ("Wir prüfen Ihren Antrag.",
                                           "Finanzplan fehlt, nachfragen")

    own = api.get(f"/api/submissions/{created['id']}", token=created["token"])
    assert own.status_code == 200
    text = own.get_data(as_text=True)
    assert "Finanzplan fehlt" not in text
    entries = own.get_json()["history"]
    assert all("note" not in entry for entry in entries)
    assert entries[-1]["comment"] == "Wir prüfen Ihren Antrag."


def test_a_note_is_allowed_where_the_workflow_takes_no_comment(api: Api) -> None:
    created = api.submit()
    api.fire(created["id"], "review")
    # the membership workflow's "accept" takes an optional comment; a note needs no policy
    response = api.fire(created["id"], "accept", note="intern: Beitrag reduziert")
    assert response.status_code == 200
    event = history(api.db, created["id"])[-1]
    assert (event.comment, event.note) == (None, "intern: Beitrag reduziert")


def test_a_bad_note_is_a_422_at_the_note_and_nothing_changes(api: Api) -> None:
    created = api.submit()
    before = len(history(api.db, created["id"]))

    body = assert_error(api.fire(created["id"], "review", note="a\x00b"), 422,
                        "comment_invalid")
    assert "note" in body["errors"]
    assert_error(api.fire(created["id"], "review", note=7), 400, "invalid_body")
    assert len(history(api.db, created["id"])) == before
