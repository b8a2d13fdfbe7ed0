"""Friendly error pages in the page's language, never a stack trace.

Every HTTP error of the HTML part of the app (403, 404, 405, 413, 429, 400 incl. a refused
CSRF token, …) and every unexpected exception (500) is answered with ``errors/error.html``: a
title, one or two plain sentences saying what happened and what to do, and a way back to the
start page. The traceback goes to the log, for operators, and nowhere else.

The JSON API answers its own errors (``web/api/errors.py``); a request under ``/api`` that
still reaches these handlers (an unknown path, 404, or a method the path does not take, 405:
routing failures belong to no blueprint) gets the API's JSON rather than a page.

:func:`error_page` is public so that blueprints can answer their own exceptions (e.g. the
applicant pages turn ``StorageUnavailable`` into a 503 page) with the same look.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError

from web.api.errors import http_error, is_api_path, status_error
from web.db import RETRY_AFTER_SECONDS
from web.limits import set_retry_after

__all__ = ["error_page", "init_app"]

log = logging.getLogger(__name__)

def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(InternalServerError, _internal_error)
    app.register_error_handler(Exception, _unexpected)


def _texts(status: int, error: Exception | None) -> tuple[str, str]:
    """(title, explanation) for ``status``; looked up at request time, in the page language."""
    if isinstance(error, CSRFError):
        return (
            _("Your session has expired"),
            _(
                "For your protection this form can only be sent together with a security "
                "token, and yours is missing or no longer valid. Please go back, reload the "
                "page and send it again; answers you already saved are kept. Cookies must be "
                "allowed for this site."
            ),
        )
    texts = {
        400: (
            _("The request could not be processed"),
            _("Please go back and try again."),
        ),
        403: (
            _("You may not do this"),
            _(
                "Your account does not have the role this page needs. If you should have "
                "access, please ask an administrator."
            ),
        ),
        404: (
            _("Page not found"),
            _(
                "There is nothing at this address. Please check the link, or start again "
                "from the list of forms."
            ),
        ),
        405: (
            _("This is not possible here"),
            _("This address cannot be used like this. Please start again from the list of forms."),
        ),
        413: (
            _("Too much data"),
            _(
                "What you sent is larger than this service accepts. Please shorten long texts "
                "and try again."
            ),
        ),
        429: (
            _("Too many requests"),
            _(
                "You have sent many requests in a short time. Please wait a minute and try "
                "again; answers you already saved are kept."
            ),
        ),
        500: (
            _("Something went wrong"),
            _(
                "An unexpected error occurred on our side. Please try again later; answers "
                "you already saved are kept."
            ),
        ),
        503: (
            _("Service temporarily unavailable"),
            _(
                "Your answers cannot be saved or loaded right now. Please try again in a few "
                "minutes; nothing you saved before is lost."
            ),
        ),
    }
    return texts.get(status, texts[400 if status < 500 else 500])


def error_page(status: int, error: Exception | None = None) -> Response:
    """The HTML error page for ``status`` (JSON for an API path)."""
    if is_api_path(request.path):
        return status_error(status)
    title, message = _texts(status, error)
    try:
        body = render_template("errors/error.html", status=status, title=title, message=message,
                               back_url=_back_url())
    except Exception:  # the error page itself must never fail: plain words instead
        log.exception("rendering the %s error page failed", status)
        body = (
            f"<!doctype html><title>{escape(title)}</title>"
            f"<h1>{escape(title)}</h1><p>{escape(message)}</p>"
        )
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    if status == 503:
        set_retry_after(response, RETRY_AFTER_SECONDS)
    return response


def _back_url() -> str | None:
    """For signed-in staff: where their roles let them go (the start page otherwise)."""
    from flask_login import current_user

    from web.auth import landing_url

    try:
        if current_user.is_authenticated:
            return landing_url(current_user.record)
    except Exception:  # the error page must not fail over this: the start page then
        log.exception("no way back for the error page")
    return None


def _http_error(error: HTTPException) -> Any:
    status = error.code or 500
    if status < 400:  # redirects raised as exceptions are not errors
        return error
    if is_api_path(request.path):
        return http_error(error)
    response = error_page(status, error)
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        response.headers["Allow"] = ", ".join(sorted(valid_methods))
    for name, value in error.get_headers():  # e.g. Retry-After of a 429
        if name.lower() == "retry-after":
            response.headers[name] = value
    return response


def _internal_error(error: InternalServerError) -> Response:
    original = getattr(error, "original_exception", None)
    if original is not None:
        log.error(
            "unexpected error for %s %s", request.method, request.path, exc_info=original
        )
    return error_page(500, error)


def _unexpected(error: Exception) -> Any:
    if isinstance(error, HTTPException):
        return _http_error(error)
    log.exception("unexpected error for %s %s", request.method, request.path)
    return error_page(500, error)
