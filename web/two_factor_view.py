"""The enrolment of a second factor, as both enrolment pages (the account page's and the one
a sign-in forces) work it: the new secret kept in the session until a code confirms it, the QR
code as inline SVG (drawn here with segno: no request to anyone else) and the secret as text
for typing it in by hand."""

from __future__ import annotations

from dataclasses import dataclass

import segno
from flask import request, session
from markupsafe import Markup

from engine.exceptions import InvalidInput
from engine.services.two_factor import confirm_enrolment, new_secret, provisioning_uri
from web.coordinator.text import gettext as _
from web.db import get_db as database

__all__ = ["Enrolment", "enrolment_context", "enrolment_step", "grouped_secret"]


@dataclass(frozen=True)
class Enrolment:
    """One request of an enrolment page: the secret shown, and after a POST either the
    recovery codes (confirmed: show them once) or the error of a wrong code."""

    secret: str
    codes: list[str] | None = None
    error: str | None = None


def enrolment_step(user_id: int, session_key: str) -> Enrolment:
    """A GET (or a POST without a kept secret) starts with a new secret kept under
    ``session_key``; a POST confirms the kept one with the typed code."""
    secret = session.get(session_key)
    if not isinstance(secret, str) or request.method == "GET":
        secret = new_secret()
        session[session_key] = secret
    if request.method != "POST":
        return Enrolment(secret)
    try:
        codes = confirm_enrolment(database(), user_id, secret, request.form.get("code") or "")
    except InvalidInput:
        return Enrolment(secret, error=_(
            "This code is not valid. Please enter the code your app shows now."))
    session.pop(session_key, None)
    return Enrolment(secret, codes=list(codes))


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, as authenticator apps show it."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def enrolment_context(secret: str, email: str, title: str) -> dict[str, object]:
    """Template values of an enrolment: ``qr_svg`` (markup), ``secret_text``."""
    svg = segno.make(provisioning_uri(secret, email), error="m").svg_inline(
        scale=4, title=title, svgclass="totp-qr"
    )
    return {"qr_svg": Markup(svg), "secret_text": grouped_secret(secret)}
