"""Personal data in the database: erasure (to the bytes of the SQLite files), retention,
the per-address export, consent records and the audit log — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.exceptions import InvalidInput, NotFound
from engine.services import (
    AuditQuery,
    Database,
    RetentionSettings,
    add_comment,
    audit_csv_chunks,
    audit_entries,
    erase_by_email,
    erase_by_reference,
    export_personal_data,
    fire_transition,
    get_submission,
    history,
    import_definition,
    notifications_for,
    publish_form,
    purge,
    record_admin_action,
    resume,
    save_draft,
    submission_data,
    submit,
)
from support.storage import VALID_ANSWERS, form

ADA = {**VALID_ANSWERS, "name": "Ada Quellwasser", "email": "ada.quell@example.org"}
BOB = {**VALID_ANSWERS, "name": "Bob Bergmeister", "email": "bob.berg@example.org"}
SECRET_NOTE = "Rückruf bei Frau Quellwasser unter 0171-5550199"
MESSAGE = "Liebe Frau Quellwasser, wir brauchen noch Ihren Nachweis"
CONSENT_LABEL = "Ich willige in die Speicherung ein (Zustimmungstext 7f3a)"


def _with_consent(db: Database, **changes: Any) -> None:
    data = form(**changes)
    data["steps"][0]["fields"].append({
        "id": "agree", "type": "checkbox", "consent": True,
        "label": {"de": CONSENT_LABEL, "en": "I agree (consent text 7f3a)"}})
    import_definition(db, data, "form")
    publish_form(db, "membership", 2)


def _submit(db: Database, answers: dict[str, Any]) -> str:
    return submit(db, "membership", {**answers, "agree": True}, "de").id


def test_a_ticked_consent_box_is_recorded_with_its_label_language_version_and_time(
    published_db: Database,
) -> None:
    _with_consent(published_db)
    submission = get_submission(published_db, _submit(published_db, ADA))
    assert submission.consents == ({
        "field": "agree", "label": CONSENT_LABEL, "language": "de", "form_version": 2,
        "at": submission.created_at.isoformat()},)
    unticked = submit(published_db, "membership", ADA, "de")
    assert get_submission(published_db, unticked.id).consents == ()


def test_erasure_keeps_a_tombstone_and_removes_every_copy(published_db: Database) -> None:
    db = published_db
    _with_consent(db)
    ada, bob = _submit(db, ADA), _submit(db, BOB)
    fire_transition(db, ada, "reject", actor="coord@example.org", roles=["coordinator"],
                    comment=MESSAGE, note=SECRET_NOTE)
    add_comment(db, ada, "coord@example.org", SECRET_NOTE)
    draft = save_draft(db, "membership", {"email": ADA["email"], "name": ADA["name"]})
    reference = get_submission(db, ada).reference

    erased = erase_by_reference(db, reference, actor="admin@example.org",
                                reason="Antrag nach Art. 17")
    assert (erased.reference, erased.deleted_drafts) == (reference, 1)

    tomb = get_submission(db, ada)
    assert tomb.answers == {} and tomb.erased_at is not None
    assert (tomb.reference, tomb.state, tomb.form_version) == (reference, "rejected", 2)
    assert tomb.consents[0]["label"] == CONSENT_LABEL  # the proof stays: no personal data
    events = history(db, ada)
    assert [e.kind for e in events] == ["created", "transition", "comment", "erased"]
    assert all(e.comment is None for e in events if e.kind != "erased")
    assert all(e.note is None for e in events[:-1])
    assert (events[-1].actor, events[-1].note) == ("admin@example.org", "Antrag nach Art. 17")
    rows = notifications_for(db, ada)
    assert rows and all(r.recipient is None for r in rows if r.role == "applicant")
    assert all(r.status == "cancelled" for r in rows)  # nothing had been sent yet
    assert all(r.last_error is None for r in rows)
    with pytest.raises(NotFound):
        resume(db, draft.token)
    # another applicant's data is untouched
    other = get_submission(db, bob)
    assert other.answers["name"] == BOB["name"] and other.erased_at is None
    assert any(r.recipient == BOB["email"] for r in notifications_for(db, bob))
    entries, _ = audit_entries(db, AuditQuery(action="erase"))
    assert [(e.actor, e.object_ref) for e in entries] == [("admin@example.org", reference)]
    assert "Quellwasser" not in repr(entries)
    # erasing a tombstone again does nothing
    again = erase_by_reference(db, reference, actor="admin@example.org", reason="again")
    assert (again.cancelled_notifications, again.deleted_drafts) == (0, 0)
    assert len(history(db, ada)) == 4


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_after_an_erasure_the_sqlite_files_hold_none_of_it(
    published_db: Database, database_url: str
) -> None:
    db = published_db
    ada, bob = _submit(db, ADA), _submit(db, BOB)
    fire_transition(db, ada, "reject", actor="coord@example.org", roles=["coordinator"],
                    comment=MESSAGE, note=SECRET_NOTE)
    add_comment(db, ada, "coord@example.org", SECRET_NOTE)
    path = Path(database_url.removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")
    before = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert b"Quellwasser" in before  # the probe can see what it looks for

    erase_by_email(db, "ADA.Quell@example.org", actor="cli", reason="Art. 17")

    content = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    for secret in ("Quellwasser", "ada.quell@example.org", "0171-5550199",
                   "Ihren Nachweis"):
        assert secret.encode() not in content, secret
        assert secret.encode("utf-16-le") not in content, secret
    assert b"Bergmeister" in content and b"bob.berg@example.org" in content
    assert get_submission(db, bob).answers["name"] == BOB["name"]


def test_export_by_address_has_everything_of_that_address_only(published_db: Database) -> None:
    db = published_db
    _with_consent(db)
    ada, _ = _submit(db, ADA), _submit(db, BOB)
    fire_transition(db, ada, "reject", actor="coord@example.org", roles=["coordinator"],
                    comment=MESSAGE, note=SECRET_NOTE)
    save_draft(db, "membership", {"email": ADA["email"], "name": "Ada im Entwurf"})
    document = export_personal_data(db, ADA["email"].upper(), actor="admin@example.org")
    text = json.dumps(document, ensure_ascii=False)
    assert "Bergmeister" not in text and "bob.berg" not in text
    [entry] = document["submissions"]
    assert entry["reference"] == get_submission(db, ada).reference
    assert entry["form"]["version"] == 2 and entry["state"]["label"] == "Abgelehnt"
    answers = {a["field"]: a for a in entry["answers"]}
    assert answers["name"]["label"] == "Name" and answers["name"]["value"] == ADA["name"]
    assert answers["kind"]["value_labels"] == ["Person"]
    assert entry["consents"][0]["label"] == CONSENT_LABEL
    transition = entry["history"][1]
    assert (transition["message"], transition["note"]) == (MESSAGE, SECRET_NOTE)
    assert any(n["recipient"] == ADA["email"] for n in entry["notifications"])
    assert [d["answers"][0]["value"] for d in document["drafts"]] == ["Ada im Entwurf"]
    # the applicant's own download: no internal note, no staff names
    own = json.dumps(submission_data(db, ada, staff=False), ensure_ascii=False)
    assert MESSAGE in own and SECRET_NOTE not in own and "coord@example.org" not in own
    # none: an empty document, not an error
    assert export_personal_data(db, "nobody@example.org", actor="cli")["submissions"] == []
    with pytest.raises(InvalidInput):
        export_personal_data(db, "not an address", actor="cli")
    entries, _ = audit_entries(db, AuditQuery(action="personal_data_export"))
    assert len(entries) == 2 and all("ada" not in e.object_ref for e in entries)


def test_retention_erases_final_submissions_past_their_time_only(
    published_db: Database, clock: Any
) -> None:
    db = published_db
    import_definition(db, form(retention_days=30), "form")
    publish_form(db, "membership", 2)
    done = _submit(db, ADA)
    still_open = _submit(db, BOB)
    fire_transition(db, done, "reject", actor="c@example.org", roles=["coordinator"],
                    comment="nein")
    kept_draft = save_draft(db, "membership", {"name": "Neuer Entwurf"})
    clock.advance(days=29)
    fresh_draft = save_draft(db, "membership", {"name": "Jüngerer Entwurf"})
    assert purge(db, RetentionSettings(draft_days=30)).erased == []

    clock.advance(days=2)
    settings = RetentionSettings(draft_days=30)
    dry = purge(db, settings, dry_run=True)
    assert dry.erased == [get_submission(db, done).reference] and dry.drafts == 1
    assert get_submission(db, done).erased_at is None  # a dry run changes nothing
    report = purge(db, settings)
    assert report.erased == dry.erased and report.drafts == 1
    assert get_submission(db, done).answers == {}
    assert history(db, done)[-1].actor == "retention"
    assert get_submission(db, still_open).answers["name"] == BOB["name"]
    with pytest.raises(NotFound):
        resume(db, kept_draft.token)
    assert resume(db, fresh_draft.token).answers == {"name": "Jüngerer Entwurf"}
    entries, _ = audit_entries(db, AuditQuery(action="retention_purge"))
    assert len(entries) == 1 and "1 submission(s) erased" in (entries[0].detail or "")


def test_the_deployment_default_applies_to_forms_without_retention(
    published_db: Database, clock: Any
) -> None:
    db = published_db
    done = submit(db, "membership", ADA, "de").id
    fire_transition(db, done, "reject", actor="c", roles=["coordinator"], comment="nein")
    clock.advance(days=400)
    assert purge(db, RetentionSettings()).erased == []  # unset: kept
    assert purge(db, RetentionSettings(retention_days=365)).erased == [
        get_submission(db, done).reference]


def test_the_audit_log_filters_expires_and_exports_formula_safe_csv(
    published_db: Database, clock: Any
) -> None:
    db = published_db
    with db.transaction() as store:
        record_admin_action(store, "=cmd|' /C calc'!A0", "publish", "form membership v1")
        record_admin_action(store, "admin@example.org", "token_create", "token 3")
    entries, total = audit_entries(db, AuditQuery(action="publish"))
    assert total == 1 and entries[0].object_ref == "form membership v1"
    csv_text = "".join(audit_csv_chunks(db, AuditQuery()))
    assert csv_text.startswith("\ufeffat,actor,action,object,detail\r\n")
    assert "'=cmd|" in csv_text
    clock.advance(days=731)
    purge(db, RetentionSettings())
    remaining, _ = audit_entries(db, AuditQuery())
    assert [e.action for e in remaining] == ["retention_purge"]


def test_the_json_export_of_the_inbox_carries_the_consent_records(published_db: Database) -> None:
    from engine.records import InboxFilter
    from engine.services.export import export_plan, json_chunks

    _with_consent(published_db)
    _submit(published_db, ADA)
    document = json.loads("".join(json_chunks(published_db,
                                              export_plan(published_db, InboxFilter()))))
    [row] = document["submissions"]
    assert [c["label"] for c in row["consents"]] == [CONSENT_LABEL]
