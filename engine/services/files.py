"""Uploaded files around drafts and submissions: what is new in a request, which files an
answer names, reading a file back for staff, and erasing a submission's files.

The web layer reads an upload into a temporary file and describes it (``engine.files.file_ref``:
its size, hash and the type its content shows) before anything is evaluated; the draft and
submission services then store it in the transaction that stores the answers naming it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from engine.exceptions import NotFound
from engine.files import FileRef, is_file_ref
from engine.model import FormDefinition
from engine.records import FileRecord

if TYPE_CHECKING:
    from engine.storage import Database
    from engine.storage.store import Store

__all__ = [
    "Upload", "erase_submission_files", "file_chunks", "named_files", "store_uploads",
    "submission_file",
]


@dataclass(frozen=True)
class Upload:
    """A file sent with a request, read and described, not stored yet."""

    field_id: str
    ref: FileRef
    stream: IO[bytes]


def named_files(form: FormDefinition, answers: Mapping[str, Any]) -> dict[str, str]:
    """file id → field id of every file reference in ``answers`` (file fields only)."""
    named: dict[str, str] = {}
    for f in form.fields():
        value = answers.get(f.id)
        if f.is_file and isinstance(value, list):
            named.update((ref["id"], f.id) for ref in value if is_file_ref(ref))
    return named


def store_uploads(
    store: Store, uploads: list[Upload], named: Mapping[str, str], *,
    draft_id: str | None = None, submission_id: str | None = None,
) -> None:
    """Store the uploads the answers name (``named``); the others are left out."""
    for upload in uploads:
        if named.get(upload.ref.id) == upload.field_id:
            store.files.add(upload.ref, upload.stream, field_id=upload.field_id,
                            draft_id=draft_id, submission_id=submission_id)


def submission_file(db: Database, submission_id: str, file_id: str) -> FileRecord:
    """A file of a submission; ``NotFound`` when the submission has no such file."""
    with db.read() as store:
        found = store.files.get(file_id)
    if found is None or found.submission_id != submission_id:
        raise NotFound(f"submission {submission_id!r} has no file {file_id!r}")
    return found


def file_chunks(db: Database, record: FileRecord) -> Iterator[bytes]:
    """A file's bytes chunk by chunk, each read in a short transaction of its own, so that a
    slow download holds no transaction open and the web process about one chunk in memory."""
    for seq in range(record.chunks):
        with db.read() as store:
            chunk = store.files.chunk(record.id, seq)
        if chunk is None:  # erased while it was being downloaded
            return
        yield chunk


def erase_submission_files(db: Database, submission_id: str) -> int:
    """Delete every file of a submission, bytes and all (erasure of personal data); how many.
    Run it in the erasure's own transaction instead through ``store.files.delete_for_submission``
    when the answers are blanked there too."""
    with db.transaction() as store:
        return store.files.delete_for_submission(submission_id)
