"""Who is calling: ``Authorization: Bearer <token>`` names a staff user or an applicant.

Two kinds of token reach the API. A staff user's API token (``formflow tokens create``) acts
with that user's roles. An applicant's submission token (handed out once in the 201 answer of
a submission) lets its holder read that one submission and nothing else. Both are looked up
through the services by their hash; an unknown, revoked or malformed token is 401, a valid
token that may not do what it asks is 403 (decided by the views).

Bearer requests carry no cookies' authority, so CSRF protection does not apply to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import request

from engine.records import SubmissionRecord, UserRecord
from engine.services import Database, submission_for_token, user_for_token
from web.api.errors import ApiError

__all__ = ["STAFF_ROLES", "Caller", "authenticate", "bearer_token"]

STAFF_ROLES = frozenset({"coordinator", "admin"})
"""Roles that may read every submission."""

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="formflow"'}


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: exactly one of ``user`` and ``own_submission`` is set."""

    user: UserRecord | None = None
    own_submission: SubmissionRecord | None = None
    """For an applicant token: the submission the token belongs to."""

    @property
    def roles(self) -> tuple[str, ...]:
        return self.user.roles if self.user is not None else ()

    @property
    def actor(self) -> str:
        """How the caller appears in a submission's history."""
        return self.user.email if self.user is not None else "applicant"


def bearer_token() -> str:
    """The token of the ``Authorization: Bearer`` header; 401 when it is missing or malformed."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if not header:
        raise ApiError(
            401, "unauthorized",
            "Authentication is required: send 'Authorization: Bearer <token>'.",
            headers=_CHALLENGE,
        )
    if scheme.lower() != "bearer" or not token or " " in token:
        raise ApiError(
            401, "unauthorized",
            "The Authorization header must be 'Bearer <token>'.",
            headers=_CHALLENGE,
        )
    return token


def authenticate(db: Database, *, allow_applicant: bool) -> Caller:
    """The caller behind the bearer token; 401 for an unknown/revoked token.

    ``allow_applicant=False``: an applicant's valid token is refused with 403 (it is known,
    it just may not do this).
    """
    token = bearer_token()
    user = user_for_token(db, token)
    if user is not None:
        return Caller(user=user)
    own = submission_for_token(db, token)
    if own is None:
        raise ApiError(
            401, "invalid_token",
            "The token is unknown, revoked or belongs to a deactivated user.",
            headers=_CHALLENGE,
        )
    if not allow_applicant:
        raise ApiError(403, "forbidden", "An applicant's token cannot do this.")
    return Caller(own_submission=own)
