"""HMAC-SHA256 signatures of webhook bodies, as senders and receivers compute them.

The signature covers the exact bytes on the wire, so a receiver must verify the raw body
before parsing it. The header value is ``sha256=<hex>`` (the form GitHub and others use), so
the algorithm can change later without breaking receivers that check the prefix.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "sign", "verify"]

SIGNATURE_HEADER = "X-Formflow-Signature"
_PREFIX = "sha256="


def sign(body: bytes, secret: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256 over ``body`` keyed by ``secret``."""
    return _PREFIX + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body``; constant-time, False for any bad input."""
    if not header or not header.startswith(_PREFIX):
        return False
    return hmac.compare_digest(sign(body, secret).encode("ascii"),
                               header.strip().encode("ascii", "replace"))
