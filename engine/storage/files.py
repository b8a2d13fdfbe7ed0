"""Uploaded files: their facts in ``files``, their bytes in ``file_chunks`` (about 1 MB a row),
written through the ORM in the transaction of the draft or submission that owns them.

A file is written a chunk at a time and each chunk leaves the session once flushed, so storing
a large file holds about one chunk in memory. Deleting the owner deletes the files (the foreign
keys cascade); ``delete_for_submission`` is there for erasing a submission's personal data
while the submission itself stays.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from typing import IO

from sqlalchemy import delete, func, select, update

from engine.files import CHUNK_SIZE, FileRef
from engine.records import FileRecord
from engine.storage.repository import Repository
from engine.storage.tables import FileChunkRow, FileRow

__all__ = ["FileRepository"]


class FileRepository(Repository):
    def add(
        self, ref: FileRef, stream: IO[bytes], *, field_id: str, draft_id: str | None = None,
        submission_id: str | None = None,
    ) -> None:
        """Store the file ``ref`` describes from ``stream`` for a draft or a submission;
        ``ValueError`` when the bytes are not the ones ``ref`` was made from."""
        self._session.add(FileRow(
            id=ref.id, draft_id=draft_id, submission_id=submission_id, field_id=field_id,
            name=ref.name, content_type=ref.type, size=ref.size, sha256=ref.sha256,
            created_at=self._now,
        ))
        self._session.flush()
        digest = hashlib.sha256()
        size = seq = 0
        stream.seek(0)
        while chunk := stream.read(CHUNK_SIZE):
            row = FileChunkRow(file_id=ref.id, seq=seq, data=chunk)
            self._session.add(row)
            self._session.flush()
            self._session.expunge(row)  # written: the session need not keep the bytes
            digest.update(chunk)
            size += len(chunk)
            seq += 1
        if size != ref.size or digest.hexdigest() != ref.sha256:
            raise ValueError(f"the file {ref.name!r} changed while it was stored")

    def get(self, file_id: str) -> FileRecord | None:
        row = self._session.get(FileRow, file_id)
        return None if row is None else self._record(row)

    def of_draft(self, draft_id: str) -> list[FileRecord]:
        rows = self._session.scalars(
            select(FileRow).where(FileRow.draft_id == draft_id).order_by(FileRow.created_at))
        return [self._record(row) for row in rows]

    def of_submission(self, submission_id: str) -> list[FileRecord]:
        rows = self._session.scalars(
            select(FileRow).where(FileRow.submission_id == submission_id)
            .order_by(FileRow.created_at))
        return [self._record(row) for row in rows]

    def chunk(self, file_id: str, seq: int) -> bytes | None:
        """The ``seq``-th chunk of a file's bytes (from 0), or None past its end."""
        return self._session.scalar(
            select(FileChunkRow.data).where(FileChunkRow.file_id == file_id,
                                            FileChunkRow.seq == seq))

    def move_to_submission(
        self, file_ids: Collection[str], *, draft_id: str, submission_id: str
    ) -> int:
        """Hand the draft's files ``file_ids`` to the submission made from it; how many."""
        if not file_ids:
            return 0
        result = self._session.execute(
            update(FileRow)
            .where(FileRow.id.in_(list(file_ids)), FileRow.draft_id == draft_id)
            .values(draft_id=None, submission_id=submission_id)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

    def delete_of_draft(self, file_ids: Collection[str], *, draft_id: str) -> int:
        """Delete files of a draft the applicant removed; how many went."""
        if not file_ids:
            return 0
        ids = list(file_ids)
        self._session.execute(
            delete(FileChunkRow).where(FileChunkRow.file_id.in_(
                select(FileRow.id).where(FileRow.id.in_(ids), FileRow.draft_id == draft_id)))
            .execution_options(synchronize_session=False))
        result = self._session.execute(
            delete(FileRow).where(FileRow.id.in_(ids), FileRow.draft_id == draft_id)
            .execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0))

    def delete_for_submission(self, submission_id: str) -> int:
        """Delete every file of a submission, bytes and all (erasure); how many went."""
        owned = select(FileRow.id).where(FileRow.submission_id == submission_id)
        self._session.execute(
            delete(FileChunkRow).where(FileChunkRow.file_id.in_(owned))
            .execution_options(synchronize_session=False))
        result = self._session.execute(
            delete(FileRow).where(FileRow.submission_id == submission_id)
            .execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0))

    def _record(self, row: FileRow) -> FileRecord:
        chunks = self._session.scalar(
            select(func.count()).select_from(FileChunkRow).where(FileChunkRow.file_id == row.id))
        return FileRecord(
            id=row.id, field_id=row.field_id, name=row.name, content_type=row.content_type,
            size=row.size, sha256=row.sha256, chunks=int(chunks or 0), draft_id=row.draft_id,
            submission_id=row.submission_id, created_at=row.created_at,
        )
