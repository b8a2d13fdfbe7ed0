"""Uploaded files in the database: written in chunks with the draft or submission that names
them, in the same transaction (all or nothing), gone with their draft (deleted or expired),
handed to the submission made from the draft, and erasable with a submission."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from engine.exceptions import InvalidInput
from engine.files import CHUNK_SIZE, file_ref
from engine.services import (
    Database,
    Upload,
    discard_draft,
    erase_by_reference,
    erase_submission_files,
    import_definition,
    publish_form,
    purge_expired_drafts,
    save_draft,
    submit,
)
from support.storage import VALID_ANSWERS, form

BODY = b"%PDF-1.7\n" + bytes(range(256)) * (CHUNK_SIZE // 256) + b"tail"  # two chunks


def _with_file_field(db: Database) -> None:
    data = form()
    data["steps"][0]["fields"].append(
        {"id": "plan", "type": "file", "label": {"de": "Plan", "en": "Plan"}})
    import_definition(db, data, "form")
    publish_form(db, "membership")


def _upload(file_id: str = "a" * 32, body: bytes = BODY) -> Upload:
    stream = io.BytesIO(body)
    return Upload("plan", file_ref(file_id, "plan.pdf", stream), stream)


def _count(db: Database) -> int:
    with db.read() as store:
        return len([f for f in ("a" * 32, "b" * 32) if store.files.get(f) is not None])


def test_files_go_with_the_draft_in_chunks_and_to_the_submission(published_db: Database) -> None:
    db = published_db
    _with_file_field(db)
    upload = _upload()
    saved = save_draft(db, "membership", {**VALID_ANSWERS, "plan": [upload.ref.as_json()]},
                       uploads=[upload])
    with db.read() as store:
        stored = store.files.get("a" * 32)
        assert stored is not None and stored.chunks == 2 and stored.size == len(BODY)
        assert b"".join(store.files.chunk(stored.id, n) or b"" for n in range(2)) == BODY
    created = submit(db, "membership", {**VALID_ANSWERS, "plan": [upload.ref.as_json()]},
                     draft_token=saved.token)
    with db.read() as store:
        moved = store.files.get("a" * 32)
        assert moved is not None and moved.submission_id == created.id and moved.draft_id is None
    assert erase_submission_files(db, created.id) == 1
    with db.read() as store:
        assert store.files.get("a" * 32) is None and store.files.chunk("a" * 32, 0) is None


def test_a_draft_deleted_or_expired_takes_its_files(published_db: Database, clock: object) -> None:
    db = published_db
    _with_file_field(db)
    first, second = _upload("a" * 32), _upload("b" * 32)
    one = save_draft(db, "membership", {"plan": [first.ref.as_json()]}, uploads=[first])
    save_draft(db, "membership", {"plan": [second.ref.as_json()]}, uploads=[second])
    assert _count(db) == 2
    assert discard_draft(db, one.token)
    assert _count(db) == 1
    clock.advance(days=400)  # type: ignore[attr-defined]
    assert purge_expired_drafts(db) == 1
    assert _count(db) == 0


def test_dropping_a_file_from_the_answers_deletes_it(published_db: Database) -> None:
    db = published_db
    _with_file_field(db)
    upload = _upload()
    saved = save_draft(db, "membership", {"plan": [upload.ref.as_json()]}, uploads=[upload])
    save_draft(db, "membership", {"plan": []}, token=saved.token)
    assert _count(db) == 0


def test_nothing_is_stored_when_any_part_fails(published_db: Database) -> None:
    db = published_db
    _with_file_field(db)
    # a reference to a file the draft never had: refused, and the upload beside it not kept
    upload = _upload()
    stranger = dict(upload.ref.as_json(), id="b" * 32)
    with pytest.raises(InvalidInput):
        save_draft(db, "membership", {"plan": [upload.ref.as_json(), stranger]},
                   uploads=[upload])
    assert _count(db) == 0
    # bytes that are not the ones described: the transaction is rolled back
    changed = Upload("plan", upload.ref, io.BytesIO(BODY[:-1] + b"X"))
    with pytest.raises(ValueError, match="changed while it was stored"):
        save_draft(db, "membership", {"plan": [upload.ref.as_json()]}, uploads=[changed])
    assert _count(db) == 0


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_an_erasure_removes_the_files_bytes_from_the_database_file(
    published_db: Database, database_url: str
) -> None:
    db = published_db
    _with_file_field(db)
    marker = b"Satzung des Vereins Quellwasser"
    upload = _upload(body=b"%PDF-1.7\n" + marker * 100)
    created = submit(db, "membership", {**VALID_ANSWERS, "plan": [upload.ref.as_json()]},
                     uploads=[upload])
    path = Path(database_url.removeprefix("sqlite:///"))
    wal = path.with_name(path.name + "-wal")

    def stored_bytes() -> bytes:
        return path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")

    assert marker in stored_bytes()  # the probe can see what it looks for
    erase_by_reference(db, created.reference, actor="cli", reason="Art. 17")
    assert _count(db) == 0
    assert marker not in stored_bytes() and b"plan.pdf" not in stored_bytes()
