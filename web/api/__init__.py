"""The JSON API under ``/api`` (INTERFACES.md): forms, submissions, transitions, OpenAPI.

``init_app(app)`` registers the blueprint and its JSON error handling. Request bodies are
limited to ``API_MAX_CONTENT_LENGTH`` bytes (default 256 KiB; 413 beyond). Authentication is
by bearer token only (``web.api.auth``), never by the session cookie, so CSRF protection does
not apply: the blueprint is exempt from Flask-WTF's ``CSRFProtect`` (``csrf.exempt(bp)``).
Unknown paths and wrong methods under ``/api`` are answered with JSON by the app's error
handlers (``web.errors``), since routing failures belong to no blueprint.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify

from web.api.errors import API_PREFIX, ApiError, error_response
from web.api.openapi import openapi_document
from web.api.views import bp
from web.security import csrf

__all__ = [
    "API_PREFIX",
    "ApiError",
    "bp",
    "error_response",
    "init_app",
    "openapi_document",
]


@bp.get("/openapi.json")
def openapi_json() -> Any:
    return jsonify(openapi_document(current_app.config.get("BASE_URL")))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    csrf.exempt(bp)  # bearer tokens, never the session cookie: nothing to forge
