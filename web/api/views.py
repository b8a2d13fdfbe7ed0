"""The endpoints of the JSON API (INTERFACES.md, "JSON API"), thin over the services.

Every view goes through ``engine.services``: the same validation, the same audit trail and the
same notifications as the browser. Views only translate HTTP to service calls and service
outcomes (records, engine errors) to the JSON shapes in ``web.api.serialize``; errors become
JSON answers in ``web.api.errors``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request, url_for
from flask_babel import force_locale

from engine.exceptions import (
    FormUnavailable,
    GuardFailed,
    StaleState,
    SubmissionInvalid,
    TransitionNotAllowed,
    UnknownTransition,
)
from engine.records import SubmissionRecord
from engine.services import (
    Database,
    Upload,
    definitions_of,
    file_chunks,
    fire_transition,
    get_submission,
    history,
    list_published,
    published_form,
    submission_file,
    submit,
    transitions_for,
)
from web.api.auth import STAFF_ROLES, Caller, authenticate
from web.api.errors import ApiError, register_error_handlers
from web.api.serialize import form_definition_json, form_summary_json, submission_json
from web.applicant.availability import refusal_of
from web.db import get_db
from web.i18n import UI_LANGUAGES, display_zone
from web.limits import limiter, submission_limit
from web.uploads import download_response, read_uploads

__all__ = ["DEFAULT_MAX_BODY", "bp", "database", "status_url"]

bp = Blueprint("api", __name__, url_prefix="/api")
register_error_handlers(bp)

DEFAULT_MAX_BODY = 256 * 1024
"""Bytes an API request body may have unless ``API_MAX_CONTENT_LENGTH`` says otherwise: far
more than any form's answers, far less than the app-wide limit pages may need."""
STATUS_PAGE = "applicant.status"
"""The endpoint of the applicant's status page (``/status/<token>``, a page of the web UI)."""

_INVALID_MESSAGE = {
    "de": "Bitte prüfen Sie Ihre Angaben: einige Felder sind nicht gültig.",
    "en": "Please check your answers: some fields are not valid.",
}

# -- helpers --------------------------------------------------------------------------------


def database() -> Database:
    """The app's :class:`Database` (owned by ``web.db``; one per app, shared by all views)."""
    return get_db()


def json_body() -> dict[str, Any]:
    """The request body as a JSON object; 413 when too large, 400 when not a JSON object."""
    request.max_content_length = int(
        current_app.config.get("API_MAX_CONTENT_LENGTH") or DEFAULT_MAX_BODY
    )
    raw = request.get_data(cache=False)  # raises 413 beyond the limit
    if not request.is_json:
        raise ApiError(
            400, "invalid_json",
            "Send the body as JSON with the header 'Content-Type: application/json'.",
        )
    try:
        # Strict UTF-8: ``json.loads`` on bytes would decode with ``surrogatepass`` and let
        # encoded surrogates (``ED A0 80``) through. Escaped ones (``"\ud800"``) still parse:
        # the engine refuses them in every text it stores (422 at the field or comment).
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise ApiError(400, "invalid_json", "The body is not UTF-8 encoded JSON.") from None
    except json.JSONDecodeError as exc:
        raise ApiError(
            400, "invalid_json",
            f"The body is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}).",
        ) from None
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", "The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_body", "The body must be a JSON object.")
    return data


def _multipart_body() -> dict[str, Any]:
    """A multipart body: the part ``answers`` (a JSON object, as text), an optional part
    ``language``, and one part per file field (read by ``create_submission``)."""
    raw = request.form.get("answers", "{}")
    try:
        answers = json.loads(raw, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        raise ApiError(400, "invalid_json", "The part 'answers' is not valid JSON.") from None
    body: dict[str, Any] = {"answers": answers}
    if "language" in request.form:
        body["language"] = request.form["language"]
    return body


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _optional_string(body: Mapping[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or isinstance(value, str):
        return value
    raise ApiError(400, "invalid_body", f"'{key}' must be a string.")


def status_url(token: str) -> str:
    """The applicant's status page, absolute, from FORMFLOW_BASE_URL (which carries the
    script root, so the path is built without it)."""
    base = str(current_app.config.get("BASE_URL") or "").rstrip("/")
    path = url_for(STATUS_PAGE, token=token).removeprefix(request.script_root)
    return base + path


def _submission_language(db: Database, form_id: str, asked: str | None) -> str | None:
    """Body ``language``, else the best ``Accept-Language`` among the form's, else None."""
    if asked:
        return asked
    accepted = request.accept_languages
    if not accepted:
        return None
    _, form = published_form(db, form_id)
    return accepted.best_match(form.languages)


def _may_read(db: Database, caller: Caller, submission: SubmissionRecord) -> bool:
    """Coordinators and admins read every submission; a custom role those whose workflow
    gives it a transition; an applicant only their own."""
    if caller.own_submission is not None:
        return caller.own_submission.id == submission.id
    roles = set(caller.roles)
    if roles & STAFF_ROLES:
        return True
    _, workflow = definitions_of(db, submission)
    return any(roles & set(t.roles) for t in workflow.transitions)


def _submission_response(db: Database, caller: Caller, submission: SubmissionRecord) -> Response:
    events = history(db, submission.id)
    transitions = transitions_for(db, submission, caller.roles) if caller.user else []
    for_applicant = caller.user is None
    def file_url(file_id: str) -> str:
        return url_for("api.read_submission_file", id=submission.id, file_id=file_id,
                       _external=True)

    return jsonify(submission_json(submission, events, transitions, for_applicant=for_applicant,
                                   file_url=file_url))


# -- endpoints ------------------------------------------------------------------------------


@bp.get("/forms")
def list_forms() -> Response:
    records = list_published(database(), "form")
    return jsonify([form_summary_json(r) for r in sorted(records, key=lambda r: r.definition_id)])


@bp.get("/forms/<id>")
def read_form(id: str) -> Response:  # noqa: A002 - the contract names the parameter {id}
    record, _ = published_form(database(), id)
    return jsonify(form_definition_json(record))


def _iso(moment: datetime | None) -> str | None:
    """A moment as the API writes times: ISO 8601 in UTC."""
    return moment.astimezone(UTC).isoformat() if moment is not None else None


@bp.post("/forms/<id>/submissions")
@limiter.limit(submission_limit)
def create_submission(id: str) -> tuple[Response, int, dict[str, str]]:  # noqa: A002
    multipart = request.mimetype == "multipart/form-data"
    body = _multipart_body() if multipart else json_body()
    answers = body.get("answers", {})
    if not isinstance(answers, dict):
        raise ApiError(400, "invalid_body", "'answers' must be a JSON object: field id → answer.")
    asked = _optional_string(body, "language")
    db = database()
    language = _submission_language(db, id, asked)
    _, form = published_form(db, id)
    shown = language if language in form.languages else form.default_language
    uploads: list[Upload] = []
    if multipart:  # one part per file field, named by its id; references never come from JSON
        uploads, refused = read_uploads(form.fields(), request.files, shown)
        if refused:
            message = _INVALID_MESSAGE.get(shown, _INVALID_MESSAGE["en"])
            raise ApiError(422, "invalid", message, errors=refused)
        answers = {**answers, **{f.id: [u.ref.as_json() for u in uploads if u.field_id == f.id]
                                 for f in form.fields() if f.is_file}}
    try:
        created = submit(db, id, answers, language, zone=display_zone(), uploads=uploads)
    except FormUnavailable as exc:
        _, form = published_form(db, id)
        shown = language if language in form.languages else form.default_language
        with force_locale(shown if shown in UI_LANGUAGES else UI_LANGUAGES[0]):
            message = refusal_of(exc)
        raise ApiError(409, exc.code, message, reason=exc.reason,
                       opens_at=_iso(exc.opens_at), closes_at=_iso(exc.closes_at)) from None
    except SubmissionInvalid as exc:
        message = _INVALID_MESSAGE.get(shown, _INVALID_MESSAGE["en"])
        raise ApiError(422, "invalid", message, errors=exc.errors) from None
    location = url_for("api.read_submission", id=created.id)
    return (
        jsonify(
            id=created.id,
            reference=created.reference,
            state=created.state,
            token=created.token,
            status_url=status_url(created.token),
        ),
        201,
        {"Location": location},
    )


@bp.get("/submissions/<id>")
def read_submission(id: str) -> Response:  # noqa: A002
    db = database()
    caller = authenticate(db, allow_applicant=True)
    own = caller.own_submission
    submission = own if own is not None and own.id == id else get_submission(db, id)
    if not _may_read(db, caller, submission):
        raise ApiError(403, "forbidden", "This token may not read this submission.")
    return _submission_response(db, caller, submission)


@bp.get("/submissions/<id>/files/<file_id>")
def read_submission_file(id: str, file_id: str) -> Response:  # noqa: A002
    """A file of a submission, for the callers who may read the submission."""
    db = database()
    caller = authenticate(db, allow_applicant=True)
    own = caller.own_submission
    submission = own if own is not None and own.id == id else get_submission(db, id)
    if not _may_read(db, caller, submission):
        raise ApiError(403, "forbidden", "This token may not read this submission.")
    record = submission_file(db, submission.id, file_id)
    return download_response(record, file_chunks(db, record))


@bp.post("/submissions/<id>/transitions")
def create_transition(id: str) -> Response:  # noqa: A002
    db = database()
    caller = authenticate(db, allow_applicant=False)
    body = json_body()
    transition = body.get("transition")
    if not isinstance(transition, str) or not transition.strip():
        raise ApiError(400, "invalid_body", "'transition' must name the transition to fire.")
    comment = _optional_string(body, "comment")
    note = _optional_string(body, "note")
    expected_state = _optional_string(body, "expected_state")
    try:
        fired = fire_transition(
            db, id, transition.strip(),
            actor=caller.actor, roles=caller.roles,
            comment=comment, note=note, expected_state=expected_state,
        )
    except (UnknownTransition, TransitionNotAllowed, GuardFailed, StaleState) as exc:
        raise _conflict(db, caller, id, exc) from None
    return _submission_response(db, caller, fired.submission)


_CONFLICT_CODES: Mapping[type[Exception], str] = {
    UnknownTransition: "unknown_transition",
    TransitionNotAllowed: "transition_not_allowed",
    GuardFailed: "guard_failed",
    StaleState: "stale_state",
}


def _conflict(db: Database, caller: Caller, submission_id: str, exc: Exception) -> ApiError:
    """409 that tells the caller where the submission is now and what they may fire there."""
    current = get_submission(db, submission_id)
    allowed = [t.id for t in transitions_for(db, current, caller.roles)]
    text = str(exc).strip()
    message = (text[:1].upper() + text[1:]).rstrip(".") + "."
    return ApiError(
        409, _CONFLICT_CODES.get(type(exc), "conflict"), message,
        state=current.state, transitions=allowed,
    )
