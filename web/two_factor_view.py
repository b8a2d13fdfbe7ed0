"""What the enrolment pages show of a new second factor: the QR code as inline SVG (drawn here
with segno: no request to anyone else) and the secret as text for typing it in by hand."""

from __future__ import annotations

import segno
from markupsafe import Markup

from engine.services.two_factor import provisioning_uri

__all__ = ["enrolment_context", "grouped_secret"]


def grouped_secret(secret: str) -> str:
    """The secret in groups of four, as authenticator apps show it."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def enrolment_context(secret: str, email: str, title: str) -> dict[str, object]:
    """Template values of an enrolment: ``qr_svg`` (markup), ``secret_text``."""
    svg = segno.make(provisioning_uri(secret, email), error="m").svg_inline(
        scale=4, title=title, svgclass="totp-qr"
    )
    return {"qr_svg": Markup(svg), "secret_text": grouped_secret(secret)}
