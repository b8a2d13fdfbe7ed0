"""Uploaded files as answers: what a file answer looks like, and what type a file really is.

A file answer is a list of references, one per file: ``{"id", "name", "size", "type",
"sha256"}``. Only the server writes them — from bytes it has read itself — so ``type`` is the
type the file's content shows (its magic bytes), never its name or the browser's claim. The
bytes live in the database (``engine.storage.files``) under ``id``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, Any

__all__ = [
    "CHUNK_SIZE", "KNOWN_TYPES", "FileRef", "file_ref", "is_file_ref", "safe_name", "sniff",
]

CHUNK_SIZE = 1024 * 1024
"""Bytes per stored chunk (one row each), and per read while a file is checked or copied."""

_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"%PDF-", 0, "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"),  # after "RIFF" and the length
)
KNOWN_TYPES: frozenset[str] = frozenset(kind for _, _, kind in _SIGNATURES)
"""The types ``accept`` may name: those whose content this module can recognise."""


def sniff(head: bytes) -> str | None:
    """The type the first bytes of a file show, or None when none of ``KNOWN_TYPES``."""
    for signature, offset, kind in _SIGNATURES:
        if head[offset:offset + len(signature)] == signature and (
                offset == 0 or head[:4] == b"RIFF"):
            return kind
    return None


@dataclass(frozen=True, slots=True)
class FileRef:
    id: str
    name: str
    size: int
    type: str
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "size": self.size, "type": self.type,
                "sha256": self.sha256}


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]+")


def safe_name(name: str) -> str:
    """A file's name as stored and shown: the last path part, without control characters or
    separators, at most 200 characters (the extension kept); ``file`` when nothing is left."""
    base = re.split(r"[/\\]", name)[-1]
    cleaned = _UNSAFE.sub("_", base).strip().strip(".") or "file"
    if len(cleaned) > 200:
        stem, dot, extension = cleaned.rpartition(".")
        cleaned = (stem[:190] + dot + extension[:9]) if dot and len(extension) < 10 else \
            cleaned[:200]
    return cleaned


def file_ref(file_id: str, name: str, stream: IO[bytes]) -> FileRef:
    """The reference of an uploaded file, read once from ``stream`` (chunk by chunk; left at
    its start again): its size, hash and the type its content shows (``""`` when unknown)."""
    stream.seek(0)
    head = stream.read(CHUNK_SIZE)
    digest = hashlib.sha256(head)
    size = len(head)
    while chunk := stream.read(CHUNK_SIZE):
        digest.update(chunk)
        size += len(chunk)
    stream.seek(0)
    return FileRef(file_id, safe_name(name), size, sniff(head) or "", digest.hexdigest())


_REF_KEYS = frozenset({"id", "name", "size", "type", "sha256"})


def is_file_ref(value: Any) -> bool:
    """Whether ``value`` has the shape of a file reference (the server wrote it)."""
    return (
        isinstance(value, Mapping) and set(value) == _REF_KEYS
        and all(isinstance(value[k], str) for k in ("id", "name", "type", "sha256"))
        and isinstance(value["size"], int) and not isinstance(value["size"], bool)
        and value["size"] >= 0
    )
