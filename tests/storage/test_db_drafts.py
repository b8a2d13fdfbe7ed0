"""Drafts: save, resume, update, expire, carry over to a new form version."""

from __future__ import annotations

from typing import Any

import pytest

from engine.exceptions import DraftExpired, NotFound
from engine.services import (
    Database,
    get_submission,
    import_definition,
    publish_form,
    resume,
    save_draft,
    submit,
)
from support.storage import FORM, VALID_ANSWERS, form


def test_save_and_resume(published_db: Database) -> None:
    db = published_db
    saved = save_draft(db, "membership", {"name": "Ada", "age": "3x", "bogus": 1},
                       step="membership", language="en")
    assert len(saved.token) >= 43
    draft = resume(db, saved.token)
    assert draft.answers == {"name": "Ada", "age": "3x"}  # unvalidated, unknown keys dropped
    assert (draft.step, draft.language, draft.form_version) == ("membership", "en", 1)
    assert (draft.carried_over, draft.dropped) == (False, ())


def test_saving_again_updates_the_same_draft_and_extends_expiry(
    published_db: Database, clock: Any
) -> None:
    db = published_db
    saved = save_draft(db, "membership", {"name": "Ada"})
    clock.advance(days=20)
    again = save_draft(db, "membership", {"name": "Ada", "email": "ada@example.org"},
                       token=saved.token, step="person")
    assert again.token == saved.token
    assert again.expires_at > saved.expires_at
    clock.advance(days=20)  # 40 days after the first save, 20 after the second
    assert resume(db, saved.token).answers == {"name": "Ada", "email": "ada@example.org"}


def test_an_expired_draft_says_so_and_is_gone(published_db: Database, clock: Any) -> None:
    db = published_db
    saved = save_draft(db, "membership", {"name": "Ada"})
    clock.advance(days=31)
    with pytest.raises(DraftExpired, match="expired on"):
        resume(db, saved.token)
    with pytest.raises(NotFound):
        resume(db, saved.token)


def test_unknown_tokens_and_forms(published_db: Database) -> None:
    with pytest.raises(NotFound):
        resume(published_db, "not-a-token")
    with pytest.raises(NotFound):
        save_draft(published_db, "nope", {})
    with pytest.raises(NotFound):
        save_draft(published_db, "membership", {}, token="not-a-token")


def test_a_draft_is_carried_over_to_a_new_form_version(published_db: Database) -> None:
    db = published_db
    saved = save_draft(db, "membership", {"name": "Ada", "age": 36, "kind": "org",
                                          "company": "ACME"}, step="membership")
    fields = FORM["steps"][0]["fields"]
    new_version = form(steps=[
        {**FORM["steps"][0], "fields": fields},
        {"id": "extra", "title": "Extra", "fields": [
            {"id": "kind", "type": "select", "label": "Kind", "required": True,
             "options": [{"value": "person", "label": "P"}, {"value": "org", "label": "O"}]},
        ]},
    ], rules=[])
    import_definition(db, new_version, "form")
    publish_form(db, "membership")
    draft = resume(db, saved.token)
    assert draft.carried_over and draft.form_version == 2
    assert draft.dropped == ("company",)
    assert draft.answers == {"name": "Ada", "age": 36, "kind": "org"}
    assert draft.step is None  # the "membership" step is gone


def test_submitting_with_the_draft_token_deletes_the_draft(published_db: Database) -> None:
    db = published_db
    saved = save_draft(db, "membership", {"name": "Ada"})
    created = submit(db, "membership", VALID_ANSWERS, "de", draft_token=saved.token)
    assert get_submission(db, created.id).state == "submitted"
    with pytest.raises(NotFound):
        resume(db, saved.token)
