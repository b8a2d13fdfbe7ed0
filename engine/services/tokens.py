"""Secrets handed to people (submission, draft and API tokens) and how they are stored.

A token carries 256 bits; only its sha256 hex digest is stored, so a leaked database does not
let anyone read a submission or act as a coordinator. A plain hash (no salt, no slow KDF) is
enough because the input is random (or a keyed MAC), not a password, and it lets us look a
token up by its digest in one indexed query.

API tokens come from ``secrets.token_urlsafe(32)``. An applicant's *submission* and *draft*
tokens are derived instead — HMAC-SHA256 of the submission id under a key derived from the
app's secret key — when the database carries that key (``Database.submission_token_key``, set
by the web app). The notification worker holds the same secret key, so it can put the
applicant's status link (``BASE_URL/status/<token>``) into a mail long after the request that
showed the token once is gone, while the database still holds only the hash; the same goes for
the resume link of a draft, mailed when the applicant saves (:func:`draft_token`: the MAC of
the draft id with a ``draft`` prefix, so a submission id and a draft id can never yield the
same token). Without a key both are random, and nothing that needs the token again can be
mailed. The price: rotating the secret key changes every derived token, so status links and
resume links in mails sent before the rotation stop working (see docs/notifications.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = [
    "draft_token",
    "hash_token",
    "new_token",
    "submission_token",
    "submission_token_key",
]

TOKEN_BYTES = 32
_SUBMISSION_TOKEN_PURPOSE = b"formflow/submission-status-token/v1"
"""Domain separation: the derived key is good for submission tokens and nothing else, so the
app's secret key is never used directly as the MAC key of two different things."""


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def submission_token_key(secret_key: str | bytes) -> bytes:
    """The key submission tokens are derived with, from the app's secret key."""
    raw = secret_key.encode("utf-8") if isinstance(secret_key, str) else bytes(secret_key)
    if not raw:
        raise ValueError("an empty secret key cannot derive submission tokens")
    return hmac.new(raw, _SUBMISSION_TOKEN_PURPOSE, hashlib.sha256).digest()


def submission_token(key: bytes, submission_id: str) -> str:
    """The applicant's token for ``submission_id``: 256 bits, base64url without padding
    (43 characters, the same shape as :func:`new_token`)."""
    digest = hmac.new(key, submission_id.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def draft_token(key: bytes, draft_id: str) -> str:
    """The resume token of draft ``draft_id`` (same shape as :func:`submission_token`)."""
    return submission_token(key, f"draft\x1f{draft_id}")
