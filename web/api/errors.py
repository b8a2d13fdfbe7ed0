"""Every error under ``/api`` is JSON: ``{"error": "<code>", "message": "<human text>", …}``.

Three places can produce an error for an API path, and each is covered here:

* a view (or a hook running for a matched API route, e.g. the rate limiter) raises — the
  blueprint's handlers answer, registered for every HTTP error code so that a code-specific
  handler someone registers on the app (an HTML 404 page) never wins over ours;
* routing itself fails (no such path: 404; path known, method not: 405) — no blueprint is
  involved then, so the app's error handler (``web.errors``) answers paths under ``/api``
  with :func:`http_error`, the same JSON;
* anything unexpected — logged with its traceback for operators, answered with a generic 500
  whose body never carries the traceback.

``StorageUnavailable`` becomes 503 with ``Retry-After``: the client may simply retry.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, default_exceptions

from engine.exceptions import (
    CommentInvalid,
    CommentNotAllowed,
    CommentRequired,
    NotFound,
    RoleNotAllowed,
    StorageUnavailable,
    TransitionError,
    UnknownTransition,
)
from web.limits import set_retry_after

__all__ = [
    "API_PREFIX",
    "ApiError",
    "error_response",
    "http_error",
    "is_api_path",
    "register_error_handlers",
    "status_error",
]

API_PREFIX = "/api"
DEFAULT_STORAGE_RETRY_AFTER = 5
"""Seconds a client should wait after a 503 (``API_STORAGE_RETRY_AFTER`` overrides)."""

log = logging.getLogger(__name__)

# Codes and plain-language messages for HTTP errors raised by Werkzeug or Flask-Limiter.
_HTTP_ERRORS: Mapping[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood."),
    401: ("unauthorized", "Authentication is required: send 'Authorization: Bearer <token>'."),
    403: ("forbidden", "You may not do this."),
    404: ("not_found", "There is nothing at this address."),
    405: ("method_not_allowed", "This address does not accept this method."),
    413: ("too_large", "The request body is too large."),
    429: ("rate_limited", "Too many requests; please wait and try again."),
    500: ("internal_error", "Something went wrong on our side; please try again later."),
    503: ("unavailable", "The service is unavailable right now; please try again later."),
}


class ApiError(Exception):
    """An error answer decided by an API view: status, code, message and extra body fields."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})
        self.details = details


def error_response(
    status: int,
    code: str,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    **details: Any,
) -> Response:
    """The JSON error answer; ``details`` are extra top-level keys (e.g. ``errors``)."""
    response = jsonify({"error": code, "message": message, **details})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register_error_handlers(bp: Blueprint) -> None:
    """Answer every error raised while handling an API route with JSON (once per blueprint)."""
    bp.register_error_handler(ApiError, _api_error)
    bp.register_error_handler(StorageUnavailable, _storage_unavailable)
    bp.register_error_handler(NotFound, _not_found)
    bp.register_error_handler(TransitionError, _transition_error)
    for code in default_exceptions:
        bp.register_error_handler(code, http_error)
    bp.register_error_handler(Exception, _unexpected)


def _api_error(exc: ApiError) -> Response:
    return error_response(exc.status, exc.code, exc.message, headers=exc.headers, **exc.details)


def _storage_unavailable(exc: StorageUnavailable) -> Response:
    """503; the cause (host names, file paths) goes to the log, not to anonymous clients."""
    log.warning("storage unavailable for %s %s: %s", request.method, request.path, exc)
    retry_after = current_app.config.get("API_STORAGE_RETRY_AFTER", DEFAULT_STORAGE_RETRY_AFTER)
    response = error_response(
        503,
        "storage_unavailable",
        "The database cannot be reached right now, so nothing was read or changed. "
        "Please try again shortly.",
    )
    return set_retry_after(response, int(retry_after))


def _not_found(exc: NotFound) -> Response:
    return error_response(404, "not_found", _sentence(str(exc)))


def _transition_error(exc: TransitionError) -> Response:
    message = _sentence(str(exc))
    if isinstance(exc, RoleNotAllowed):
        return error_response(403, "forbidden", message)
    if isinstance(exc, CommentRequired):
        return error_response(
            422, "comment_required", message, errors={"comment": [message]}
        )
    if isinstance(exc, CommentInvalid):  # too long, or a character that cannot be stored
        return error_response(
            422, "comment_invalid", message, errors={exc.field: [message]}
        )
    if isinstance(exc, CommentNotAllowed):
        return error_response(
            422, "comment_not_allowed", message, errors={"comment": [message]}
        )
    if isinstance(exc, UnknownTransition):
        return error_response(409, "unknown_transition", message)
    # not from this state, guard fails, stale expected_state: the submission's state is why
    return error_response(409, getattr(exc, "code", "conflict"), message)


def http_error(exc: HTTPException) -> Response:
    """The JSON answer for an HTTP error (``Allow`` kept on a 405)."""
    status = exc.code or 500
    code, message = _HTTP_ERRORS.get(status, ("http_error", exc.name))
    if status == 429 and exc.description:
        message = f"Too many requests (limit: {exc.description}); please wait and try again."
    response = error_response(status, code, message)
    if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
        response.headers["Allow"] = ", ".join(sorted(exc.valid_methods))
    return response


def status_error(status: int) -> Response:
    """The JSON answer for ``status`` with its plain-language message."""
    code, message = _HTTP_ERRORS.get(status, _HTTP_ERRORS[400 if status < 500 else 500])
    return error_response(status, code, message)


def _unexpected(exc: Exception) -> Response:
    log.exception("unexpected error for %s %s", request.method, request.path)
    code, message = _HTTP_ERRORS[500]
    return error_response(500, code, message)


def is_api_path(path: str) -> bool:
    """``/api`` or a path below it."""
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def _sentence(text: str) -> str:
    """Engine messages are lower-case clauses; answer with a sentence."""
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."
