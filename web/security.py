"""CSRF protection for every HTML form POST, and the security headers of every response.

CSRF: Flask-WTF's :class:`CSRFProtect` checks the token of every POST/PUT/PATCH/DELETE outside
the JSON API. The API (``/api``) is exempt on purpose: it authenticates with bearer tokens,
never with the session cookie, so a cross-site page cannot make a browser send a credential
it would honour. The token field is called ``_csrf_token`` — a name no form field can take
(field ids start with a letter), so a form definition can never collide with it. The token
lives as long as the session (``WTF_CSRF_TIME_LIMIT = None``): an applicant who spends an hour
writing a text must not lose it to an expired token.

Headers: a strict Content-Security-Policy (``default-src 'self'``, no inline scripts or
styles; data for scripts travels in ``<script type="application/json">``, which is never
executed), ``frame-ancestors 'none'`` against click-jacking, ``nosniff``, and a referrer
policy that keeps secret links (``/resume/<token>``, ``/status/<token>``) from leaking to
other sites. ``same-origin`` rather than ``no-referrer`` because Flask-WTF checks the referrer
of HTTPS POSTs against the host. Headers already set by a view are left alone.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface, SessionMixin
from flask_wtf.csrf import CSRFProtect
from itsdangerous import URLSafeTimedSerializer

from web.context import this_app, this_request

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CSRF_EXEMPT_PREFIXES",
    "CSRF_FIELD_NAME",
    "SECURITY_HEADERS",
    "csrf",
    "init_app",
]

CSRF_FIELD_NAME = "_csrf_token"
CSRF_EXEMPT_PREFIXES: tuple[str, ...] = ("/api",)
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
    # We decide which requests are checked (everything but the API), see _protect.
    config["WTF_CSRF_CHECK_DEFAULT"] = False
    if config.get("MAX_CONTENT_LENGTH") is None:
        config["MAX_CONTENT_LENGTH"] = DEFAULT_MAX_CONTENT_LENGTH
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    if str(config.get("BASE_URL", "")).startswith("https://"):
        config.setdefault("SESSION_COOKIE_SECURE", True)
    csrf.init_app(app)
    _drop_idle_csrf_hook(app)
    app.session_interface = _SessionInterface()
    app.before_request(_protect)
    app.after_request(_add_security_headers)


def _drop_idle_csrf_hook(app: Flask) -> None:
    """Remove the check Flask-WTF hooks in before every request: with
    ``WTF_CSRF_CHECK_DEFAULT`` forced off above it returns at once, every time — the check
    is :func:`_protect`, which stays. (Turning the setting on after ``create_app`` would
    have made that hook check the API as well, against the design; it no longer can.)"""
    hooks = app.before_request_funcs.get(None, [])
    app.before_request_funcs[None] = [
        hook for hook in hooks
        if not (getattr(hook, "__name__", "") == "csrf_protect"
                and getattr(hook, "__module__", "") == "flask_wtf.csrf")
    ]


def _protect() -> None:
    config = this_app().config
    current = this_request()
    # What ``csrf.protect`` itself decides last, first: it never checks a GET, and finding a
    # view's exemption (the view's module and name, the blueprint) was most of its cost.
    if (
        not config.get("WTF_CSRF_ENABLED", True)
        or current.method not in config["WTF_CSRF_METHODS"]  # set by csrf.init_app
    ):
        return
    path = current.path
    if any(path == prefix or path.startswith(prefix + "/") for prefix in CSRF_EXEMPT_PREFIXES):
        return
    csrf.protect(apply_exemptions=True)  # @csrf.exempt views stay exempt


def _add_security_headers(response: Response) -> Response:
    # One pass over the few headers already set instead of one ``setdefault`` lookup each.
    headers = response.headers
    present = {name.lower() for name, _ in headers}
    for name, lowered, value in _SECURITY_HEADER_ITEMS:
        if lowered not in present:
            headers.add(name, value)
    return response


_SECURITY_HEADER_ITEMS = tuple(
    (name, name.lower(), value) for name, value in SECURITY_HEADERS.items()
)


class _SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, doing less where a request brings no session and
    leaves none (every API call):

    * the signing serializer is built once per key set — Flask builds it on every request,
      yet it only depends on the secret key and its fallbacks;
    * without a ``Cookie`` header there is nothing to parse: an empty session at once;
    * an empty session that nothing changed is not written (as in Flask), and the cookie
      settings Flask reads before deciding so are not read; ``Vary: Cookie`` is still added
      when the session was looked at, exactly as Flask adds it.
    """

    def __init__(self) -> None:
        self._serializers: dict[tuple[Any, ...], URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        key = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        serializers = self._serializers
        if key not in serializers:
            serializers[key] = super().get_signing_serializer(app)
        return serializers[key]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        if "HTTP_COOKIE" in request.environ:
            return super().open_session(app, request)
        if self.get_signing_serializer(app) is None:
            return None  # no secret key: Flask's null session, as before
        return self.session_class()

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if session or session.modified:
            super().save_session(app, session, response)
        elif session.accessed:
            _vary_on_cookie(response)


def _vary_on_cookie(response: Response) -> None:
    """``response.vary.add("Cookie")``: that parses the ``Vary`` header into a set and writes
    it back; without one (the usual case) the result is a ``Vary: Cookie`` appended."""
    headers = response.headers
    for name, _ in headers:
        if name.lower() == "vary":
            response.vary.add("Cookie")
            return
    headers.add("Vary", "Cookie")
