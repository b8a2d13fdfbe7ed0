"""Uploads around the step pages and the API: larger bodies for multipart requests only, each
file read and described before anything is evaluated, and files streamed back to staff.

Only a ``multipart/form-data`` POST to a step page or to the API's submission endpoint of a form
with a file field may be as large as ``FORMFLOW_MAX_SUBMISSION_MB`` (default 25); every other
request keeps the app's limit (pages 1 MiB, JSON 256 KiB). Werkzeug writes a file part
larger than 500 KB to a temporary file while parsing, and it is copied to the database a chunk
at a time, so an upload costs the web process about one chunk of memory, not the file. A file
over ``FORMFLOW_MAX_UPLOAD_MB`` (default 10) is refused at its field.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from flask import Flask, Response, current_app, request
from werkzeug.datastructures import FileStorage, MultiDict

from engine.exceptions import NotFound
from engine.files import file_ref, is_file_ref
from engine.messages import message
from engine.model import Field
from engine.records import FileRecord
from engine.services import Upload, published_form
from web.db import get_db
from web.i18n import current_language

__all__ = [
    "MEGABYTE", "download_response", "file_answers", "file_size", "init_app", "read_uploads",
    "size_text",
]

MEGABYTE = 1_000_000
UPLOAD_ENDPOINTS = frozenset({"applicant.step", "api.create_submission"})


def init_app(app: Flask) -> None:
    """Register the body limit for uploads; before ``web.security`` so that it applies before
    CSRF protection reads the form."""
    app.before_request(_allow_uploads)
    app.add_template_global(file_size, "file_size")


def file_size(size: int) -> str:
    """``size_text`` in the page's language (a template global)."""
    return size_text(size, current_language())


def _allow_uploads() -> None:
    if (request.method == "POST" and request.mimetype == "multipart/form-data"
            and request.endpoint in UPLOAD_ENDPOINTS and _takes_files()):
        request.max_content_length = int(
            float(current_app.config["MAX_SUBMISSION_MB"]) * MEGABYTE)


def _takes_files() -> bool:
    """Whether the published form the request is for has a file field (only then may its
    body be larger than the app's usual limit)."""
    args = request.view_args or {}
    form_id = args.get("form_id") or args.get("id")
    if not isinstance(form_id, str):
        return False
    try:
        _, form = published_form(get_db(), form_id)
    except NotFound:
        return False  # the view answers 404
    return any(f.is_file for f in form.fields())


def read_uploads(
    fields: Sequence[Field], files: MultiDict[str, FileStorage], language: str
) -> tuple[list[Upload], dict[str, list[str]]]:
    """The files sent for ``fields``, described (size, hash, the type their content shows),
    and the messages of the fields whose files are over ``FORMFLOW_MAX_UPLOAD_MB``."""
    cap = int(float(current_app.config["MAX_UPLOAD_MB"]) * MEGABYTE)
    uploads: list[Upload] = []
    refused: dict[str, list[str]] = {}
    for f in fields:
        if not f.is_file:
            continue
        for storage in files.getlist(f.id)[:f.max_files + 1]:
            if not storage.filename:
                continue  # the empty part of a file control left empty
            ref = file_ref(uuid.uuid4().hex, storage.filename, storage.stream)
            if ref.size > cap:
                refused.setdefault(f.id, []).append(message("file_too_large", language, {
                    "name": ref.name, "max_size": _megabytes(cap)}))
                continue
            uploads.append(Upload(f.id, ref, storage.stream))
    return uploads, refused


def _megabytes(size: int) -> int | float:
    value = size / 1_000_000
    return int(value) if value.is_integer() else round(value, 1)


def file_answers(
    fields: Sequence[Field], saved: Mapping[str, Any], formdata: MultiDict[str, str],
    uploads: Sequence[Upload],
) -> dict[str, list[dict[str, Any]]]:
    """The file answers after a step page was sent: the saved files the page still lists as
    kept (``<id>-keep``), then the new ones. A reference never comes from the browser."""
    answers: dict[str, list[dict[str, Any]]] = {}
    for f in fields:
        if not f.is_file:
            continue
        keep = set(formdata.getlist(f"{f.id}-keep"))
        before = saved.get(f.id)
        kept = [dict(ref) for ref in before if is_file_ref(ref) and ref["id"] in keep] \
            if isinstance(before, list) else []
        answers[f.id] = kept + [u.ref.as_json() for u in uploads if u.field_id == f.id]
    return answers


def size_text(size: int, language: str) -> str:
    """A file size as people read it: ``850 KB``, ``1,4 MB`` (German) / ``1.4 MB``."""
    if size < 1_000_000:
        text = f"{max(1, round(size / 1000))} KB"
    else:
        text = f"{size / 1_000_000:.1f} MB"
    return text.replace(".", ",") if language == "de" else text


def download_response(record: FileRecord, chunks: Iterator[bytes]) -> Response:
    """A stored file as an attachment of its stored type, never shown in the browser."""
    fallback = record.name.encode("ascii", "replace").decode("ascii").replace('"', "_")
    disposition = (f'attachment; filename="{fallback.replace("?", "_")}"; '
                   f"filename*=UTF-8''{quote(record.name, safe='')}")
    response = Response(chunks, mimetype=record.content_type or "application/octet-stream",
                        direct_passthrough=True)
    response.headers["Content-Disposition"] = disposition
    response.headers["Content-Length"] = str(record.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
