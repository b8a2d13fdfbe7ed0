"""The resume link of a draft, mailed through the outbox: which saves queue a mail, and when
the link can be rebuilt (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from engine.exceptions import NotFound
from engine.records import OutboxRecord
from engine.services import (
    Database,
    DraftLinkDelivery,
    delivery,
    notifications_with_status,
    resume,
    resume_token,
    save_draft,
    submit,
)
from engine.services.tokens import submission_token_key
from support.storage import VALID_ANSWERS

KEY = submission_token_key("storage-test-secret-key")
EVERY_STATUS = ["pending", "enqueued", "sent", "failed"]


def draft_rows(db: Database) -> list[OutboxRecord]:
    return [r for r in notifications_with_status(db, EVERY_STATUS, limit=1000) if r.draft_id]


@pytest.fixture
def keyed_db(published_db: Database) -> Database:
    published_db.submission_token_key = KEY
    return published_db


def test_saving_for_later_queues_one_mail_per_address(keyed_db: Database) -> None:
    db = keyed_db
    saved = save_draft(db, "membership", {"name": "Ada", "email": "ada@example.org"},
                       language="en", mail_link=True)
    assert saved.link_mailed_to == "ada@example.org"
    [row] = draft_rows(db)
    assert (row.channel, row.recipient, row.role, row.language, row.status) == (
        "mail", "ada@example.org", "applicant", "en", "pending")
    assert (row.submission_id, row.event_id, row.template) == (None, None, None)

    # Saving again (the same or another step, a double click) sends no second mail …
    again = save_draft(db, "membership", {"name": "Ada L.", "email": "ADA@example.org"},
                       token=saved.token, mail_link=True)
    assert again.link_mailed_to == "ADA@example.org"
    assert len(draft_rows(db)) == 1
    # … but a corrected address gets the link too.
    save_draft(db, "membership", {"email": "ada@lovelace.example"}, token=saved.token,
               mail_link=True)
    assert sorted(r.recipient or "" for r in draft_rows(db)) == [
        "ada@example.org", "ada@lovelace.example"]


def test_the_worker_rebuilds_the_link_the_applicant_got(keyed_db: Database) -> None:
    db = keyed_db
    saved = save_draft(db, "membership", {"email": "ada@example.org"}, mail_link=True)
    [row] = draft_rows(db)
    found = delivery(db, row.id)
    assert isinstance(found, DraftLinkDelivery)
    assert found.draft.answers == {"email": "ada@example.org"}
    assert found.form.id == "membership"
    assert resume_token(db, found.draft.id) == saved.token
    assert resume(db, saved.token).answers == {"email": "ada@example.org"}


@pytest.mark.parametrize("answers", [
    {"name": "Ada"},  # no address at all
    {"name": "Ada", "email": "ada at example.org"},  # not an address by the field's own check
    {"name": "Ada", "email": ["ada@example.org"]},  # not even text
])
def test_no_mail_without_a_valid_address(keyed_db: Database, answers: dict[str, object]) -> None:
    saved = save_draft(keyed_db, "membership", answers, mail_link=True)
    assert saved.link_mailed_to is None
    assert draft_rows(keyed_db) == []


def test_plain_saves_and_keyless_databases_mail_nothing(published_db: Database) -> None:
    db = published_db
    answers = {"email": "ada@example.org"}
    assert save_draft(db, "membership", answers, mail_link=True).link_mailed_to is None
    assert draft_rows(db) == []  # no key: a random token no worker could rebuild
    db.submission_token_key = KEY
    assert save_draft(db, "membership", answers).link_mailed_to is None  # not asked to
    assert draft_rows(db) == []


def test_a_draft_saved_before_the_key_existed_is_not_mailed(published_db: Database) -> None:
    db = published_db
    old = save_draft(db, "membership", {"email": "ada@example.org"})
    db.submission_token_key = KEY
    again = save_draft(db, "membership", {"email": "ada@example.org"}, token=old.token,
                       mail_link=True)
    assert again.token == old.token  # the link the applicant holds keeps working
    assert again.link_mailed_to is None and draft_rows(db) == []


def test_the_mail_row_goes_with_its_draft(keyed_db: Database) -> None:
    db = keyed_db
    saved = save_draft(db, "membership", dict(VALID_ANSWERS), mail_link=True)
    [row] = draft_rows(db)
    submit(db, "membership", dict(VALID_ANSWERS), "de", draft_token=saved.token)
    assert draft_rows(db) == []  # submitted: the link opens nothing any more
    with pytest.raises(NotFound, match=f"no notification {row.id}"):
        delivery(db, row.id)
