"""The administration blueprint and what its views share.

Every view of the blueprint is decorated with ``roles_required("admin")`` (anonymous → login,
others → 403); ``tests/admin/test_access.py`` walks the URL map to make sure none is missed.
CSRF is checked for every POST by ``web.security`` (forms send ``_csrf_token``, the editor's
``fetch`` calls send the ``X-CSRFToken`` header).

JSON endpoints answer errors as ``{"error": code, "message": text, …}`` with a fitting status
(400 unreadable body, 404, 409 conflict, 422 refused definition), never a stack trace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from flask import Blueprint, Response, abort, current_app, jsonify, request
from flask_login import current_user
from werkzeug.exceptions import NotFound as HTTPNotFound
from werkzeug.exceptions import RequestEntityTooLarge

from engine.exceptions import DefinitionError, InvalidInput, NotFound
from engine.jsondata import parse_json
from engine.problems import Problem
from engine.services import Database
from engine.text import Text, forbidden_paths, localize
from web.admin.text import gettext, page_language
from web.db import get_db
from web.errors import error_page

__all__ = [
    "KIND_OF",
    "PLURAL_OF",
    "actor",
    "bp",
    "database",
    "json_body",
    "json_error",
    "kind_of",
    "problems_json",
    "text_in",
]

bp = Blueprint("admin", __name__, url_prefix="/admin")

KIND_OF: Mapping[str, Literal["form", "workflow"]] = {"forms": "form", "workflows": "workflow"}
PLURAL_OF: Mapping[str, str] = {"form": "forms", "workflow": "workflows"}


@bp.context_processor
def _words() -> dict[str, Any]:
    """Admin templates get the admin catalogue's ``_`` (falling back to the app's)."""
    return {"_": gettext, "admin_language": page_language()}


def database() -> Database:
    return get_db()


def actor() -> str:
    """Who is acting: the signed-in administrator's email (for drafts and the log)."""
    return str(getattr(current_user, "email", "") or "admin")


def kind_of(kinds: str) -> Literal["form", "workflow"]:
    kind = KIND_OF.get(kinds)
    if kind is None:
        abort(404)
    return kind


def text_in(text: Text | None, language: str, default: str | None = None) -> str:
    """A definition's text in the page language, else its default, else any."""
    if not text:
        return ""
    fallback = default or next((k for k in text if k), language)
    return localize(text, language, fallback)


def json_error(status: int, code: str, message: str, **extra: Any) -> Response:
    response = jsonify({"error": code, "message": message, **extra})
    response.status_code = status
    return response


def problems_json(problems: list[Problem] | tuple[Problem, ...]) -> list[dict[str, str]]:
    return [p.as_json() for p in problems]


class BadBody(Exception):
    """The request body is not the JSON object the endpoint needs (answered as 400)."""

    def __init__(self, message: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


def json_body() -> dict[str, Any]:
    """The request's JSON object, or ``BadBody`` (answered by the handler below).

    Every JSON endpoint of the editor reads its body here, strictly: UTF-8 JSON without
    ``NaN``/``Infinity`` and not nested beyond the parser (``engine.jsondata.parse_json``,
    as definition files are read), no text holding a character no text may hold (a lone
    surrogate, NUL or another control character). A body over ``MAX_CONTENT_LENGTH`` is a
    413, answered by ``_too_large`` below."""
    try:
        data = parse_json(request.get_data(cache=True))
    except DefinitionError as exc:
        raise BadBody(gettext("The request body is not readable JSON."),
                      detail=exc.problems[0].message) from None
    if not isinstance(data, dict):
        raise BadBody(gettext("The request body must be a JSON object."))
    unreadable = forbidden_paths(data)
    if unreadable:
        raise BadBody(
            gettext("The request holds a character that cannot be stored (a control "
                    "character or an invalid code point)."),
            detail=f"at {unreadable[0]}",
        )
    return data


@bp.errorhandler(BadBody)
def _bad_body(exc: BadBody) -> Response:
    extra = {} if exc.detail is None else {"detail": exc.detail}
    return json_error(400, "bad_request", str(exc), **extra)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(exc: RequestEntityTooLarge) -> Response:
    """Raised wherever the body is first read (the CSRF check may be first): JSON for the
    editor's calls, else the app's 413 page."""
    if request.is_json:
        return json_error(413, "too_large",
                          gettext("The request is larger than this service accepts."))
    return error_page(413, exc)


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> Any:
    """An unknown definition, version or user: JSON for the editor's calls, else the 404 page."""
    if request.is_json or request.accept_mimetypes.best == "application/json":
        return json_error(404, "not_found", str(exc))
    return current_app.handle_http_exception(HTTPNotFound())


@bp.errorhandler(InvalidInput)
def _invalid(exc: InvalidInput) -> Response:
    return json_error(422, exc.code, str(exc), field=exc.field)
