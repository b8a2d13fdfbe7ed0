"""Secrets handed to people (submission, draft and API tokens) and how they are stored.

A token carries 256 bits from ``secrets.token_urlsafe(32)``; only its sha256 hex digest is
stored, so a leaked database does not let anyone read a submission or act as a coordinator.
A plain hash (no salt, no slow KDF) is enough because the input is random, not a password,
and it lets us look a token up by its digest in one indexed query.
"""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["hash_token", "new_token"]

TOKEN_BYTES = 32


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
