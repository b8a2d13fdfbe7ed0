"""Embedding the applicant pages in other sites (``FORMFLOW_EMBED_ORIGINS``).

An association often wants its application form inside its own website. With
``FORMFLOW_EMBED_ORIGINS`` (comma-separated origins such as ``https://verein.example``) the
applicant pages — the start page, ``/f/…``, ``/resume/…``, ``/status/…`` — may be framed by
those origins and only by them: their Content-Security-Policy says ``frame-ancestors 'self'
<origins>`` (and no ``X-Frame-Options``, which cannot name origins). Every other page — sign-in,
inbox, administration, API — keeps ``frame-ancestors 'none'``.

A frame on another *site* gets no cookies marked ``SameSite=Lax``, so the applicant's session
(which draft this browser works on, the CSRF token) would be lost on every step. While
embedding is configured, applicant pages therefore keep their session in a cookie of their own
(``formflow_applicant``) marked ``SameSite=None; Secure`` when ``FORMFLOW_BASE_URL`` is HTTPS —
browsers refuse ``SameSite=None`` without ``Secure``, so cross-site frames need HTTPS. Staff
pages keep the ordinary session cookie with ``SameSite=Lax``: a staff sign-in is never sent
in a cross-site request. Both are Flask's signed cookie sessions; only the cookie's name and
attributes differ (the public ``SessionInterface`` methods, no private state).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface

__all__ = [
    "APPLICANT_COOKIE",
    "APPLICANT_PATHS",
    "EmbeddableSessionInterface",
    "frame_ancestors",
    "init_app",
    "is_applicant_page",
    "parse_origins",
]

APPLICANT_PATHS = ("/f/", "/resume/", "/status/")
"""Path prefixes of the applicant pages (besides the start page ``/``); tests/web/
test_embedding.py checks that every route of the applicant blueprint is among them."""

APPLICANT_COOKIE = "formflow_applicant"

_ORIGIN = re.compile(r"https?://(\*\.)?[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?(:[0-9]{1,5})?")


def parse_origins(raw: str | None) -> tuple[str, ...]:
    """The origins of ``FORMFLOW_EMBED_ORIGINS``; ``ValueError`` names one that is not an
    origin (``https://host[:port]``, ``*.`` allowed before the host; no path, no spaces)."""
    origins: list[str] = []
    for part in (raw or "").split(","):
        origin = part.strip().rstrip("/")
        if not origin:
            continue
        if not _ORIGIN.fullmatch(origin):
            raise ValueError(origin)
        origins.append(origin)
    return tuple(origins)


def is_applicant_page(path: str) -> bool:
    return path == "/" or path.startswith(APPLICANT_PATHS)


def frame_ancestors(config: Mapping[str, Any], path: str) -> str | None:
    """The ``frame-ancestors`` value for a page at ``path``; ``None``: the default (none)."""
    origins = config.get("EMBED_ORIGINS") or ()
    if not origins or not is_applicant_page(path):
        return None
    return " ".join(("'self'", *origins))


class EmbeddableSessionInterface(SecureCookieSessionInterface):
    """Flask's cookie session; on applicant pages, while embedding is on, its own cookie."""

    def _embedded(self, app: Flask) -> bool:
        return bool(app.config.get("EMBED_ORIGINS")) and is_applicant_page(request.path)

    def _cross_site(self, app: Flask) -> bool:
        return self._embedded(app) and str(app.config.get("BASE_URL", "")).startswith("https://")

    def get_cookie_name(self, app: Flask) -> str:
        return APPLICANT_COOKIE if self._embedded(app) else super().get_cookie_name(app)

    def get_cookie_samesite(self, app: Flask) -> str | None:
        return "None" if self._cross_site(app) else super().get_cookie_samesite(app)

    def get_cookie_secure(self, app: Flask) -> bool:
        return True if self._cross_site(app) else super().get_cookie_secure(app)


def init_app(app: Flask) -> None:
    app.session_interface = EmbeddableSessionInterface()
