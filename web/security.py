"""CSRF protection for every HTML form POST, and the security headers of every response.

CSRF: Flask-WTF's :class:`CSRFProtect` checks the token of every POST/PUT/PATCH/DELETE outside
the JSON API. The API blueprint is exempt on purpose (``csrf.exempt(bp)`` in ``web.api``): it
authenticates with bearer tokens, never with the session cookie, so a cross-site page cannot
make a browser send a credential it would honour. The token field is called ``_csrf_token`` —
a name no form field can take (field ids start with a letter), so a form definition can never
collide with it. The token lives as long as the session (``WTF_CSRF_TIME_LIMIT = None``): an
applicant who spends an hour writing a text must not lose it to an expired token.

Headers: a strict Content-Security-Policy (``default-src 'self'``, no inline scripts or
styles; data for scripts travels in ``<script type="application/json">``, which is never
executed), ``frame-ancestors 'none'`` against click-jacking (applicant pages: the origins of
``FORMFLOW_EMBED_ORIGINS``, see ``web.embedding``), ``nosniff``, and a referrer
policy that keeps secret links (``/resume/<token>``, ``/status/<token>``) from leaking to
other sites. ``same-origin`` rather than ``no-referrer`` because Flask-WTF checks the referrer
of HTTPS POSTs against the host. Headers already set by a view are left alone.

Sessions are Flask's own signed cookies (its default session interface): a session that is
empty and unchanged is never written, and one that was looked at adds ``Vary: Cookie``.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request
from flask_wtf.csrf import CSRFProtect

from web import embedding
from web.embedding import frame_ancestors

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CSRF_FIELD_NAME",
    "SECURITY_HEADERS",
    "csrf",
    "init_app",
]

CSRF_FIELD_NAME = "_csrf_token"
DEFAULT_MAX_CONTENT_LENGTH = 1024 * 1024
"""Request bodies above this answer 413: far more than any form needs."""

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}

csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    config = app.config
    config.setdefault("WTF_CSRF_FIELD_NAME", CSRF_FIELD_NAME)
    config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    if config.get("MAX_CONTENT_LENGTH") is None:
        config["MAX_CONTENT_LENGTH"] = DEFAULT_MAX_CONTENT_LENGTH
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    if str(config.get("BASE_URL", "")).startswith("https://"):
        config.setdefault("SESSION_COOKIE_SECURE", True)
    csrf.init_app(app)
    embedding.init_app(app)  # applicant pages framable by FORMFLOW_EMBED_ORIGINS, their cookie
    app.after_request(_add_security_headers)


def _add_security_headers(response: Response) -> Response:
    ancestors = frame_ancestors(current_app.config, request.path)
    for name, value in SECURITY_HEADERS.items():
        if ancestors is not None and name == "X-Frame-Options":
            continue  # it cannot name origins; frame-ancestors below says who may frame
        if ancestors is not None and name == "Content-Security-Policy":
            value = value.replace("frame-ancestors 'none'", f"frame-ancestors {ancestors}")
        response.headers.setdefault(name, value)
    return response
