"""The second factor of a local sign-in: time-based one-time passwords (RFC 6238, pyotp) and
ten single-use recovery codes.

Why it looks the way it does:

* Enrolment is two steps: a secret is made and shown (QR code and text) but stored only once
  the user has typed a code it generates, so a half-finished enrolment locks nobody out.
* A code is accepted for the current 30-second step and one step either side (clock drift),
  and only once: the step of the last accepted code is stored and a code of the same or an
  earlier step is refused (a conditional update, so two concurrent uses cannot both pass).
* Recovery codes are random (50 bits each) and stored as sha256 digests; each works once.
  They are shown once, right after enrolment.
* An administrator (or ``formflow users reset-2fa``) removes a user's second factor; the user
  enrols again (forced at the next sign-in when FORMFLOW_REQUIRE_2FA asks for it).
"""

from __future__ import annotations

import hmac
import secrets
import time
from datetime import UTC, datetime
from hashlib import sha256
from typing import TYPE_CHECKING

import pyotp

from engine.exceptions import InvalidInput, NotFound
from engine.services.audit import record_admin_action
from engine.services.users import get_user, get_user_by_id

if TYPE_CHECKING:
    from engine.storage import Database


__all__ = [
    "RECOVERY_CODES",
    "confirm_enrolment",
    "new_secret",
    "provisioning_uri",
    "recovery_codes_left",
    "reset_second_factor",
    "verify_second_factor",
]

RECOVERY_CODES = 10
ISSUER = "formflow"
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread


def new_secret() -> str:
    """A new base32 secret (160 bits) for an enrolment that is not stored yet."""
    return pyotp.random_base32(32)


def provisioning_uri(secret: str, email: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://`` URI authenticator apps read from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=issuer)


def _matching_step(secret: str, code: str, at: float) -> int | None:
    """The time step (current, or one either side) whose code is ``code``, or None."""
    cleaned = "".join(code.split())
    if not (cleaned.isdigit() and len(cleaned) == 6):
        return None
    totp = pyotp.TOTP(secret)
    now_step = totp.timecode(_moment(at))
    for step in (now_step, now_step - 1, now_step + 1):
        if hmac.compare_digest(totp.generate_otp(step), cleaned):
            return step
    return None


def _moment(at: float) -> datetime:
    return datetime.fromtimestamp(at, UTC)


def _recovery_hash(code: str) -> str:
    cleaned = "".join(code.lower().split()).replace("-", "")
    return sha256(f"formflow-recovery:{cleaned}".encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def confirm_enrolment(
    db: Database, user_id: int, secret: str, code: str, *, at: float | None = None
) -> list[str]:
    """Store ``secret`` as the user's second factor once ``code`` matches it; the ten new
    recovery codes (plain, to show once). ``InvalidInput("code")`` for a wrong code."""
    if len(secret) < 16 or len(secret) > 64:
        raise InvalidInput("secret", "not a second-factor secret")
    step = _matching_step(secret, code, time.time() if at is None else at)
    if step is None:
        raise InvalidInput("code", "the code does not match")
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODES)]
    with db.transaction() as store:
        store.credentials.set_totp(user_id, secret)
        store.credentials.accept_totp_step(user_id, step)
        store.credentials.replace_recovery_codes(user_id, [_recovery_hash(c) for c in codes])
    return codes


def verify_second_factor(db: Database, user_id: int, code: str, *, at: float | None = None
                         ) -> bool:
    """Whether ``code`` — a current one-time code not used before, or an unused recovery
    code — proves the user's second factor. Spends what it accepts."""
    user = get_user_by_id(db, user_id)
    if user is None or user.totp_secret is None or not code or len(code) > 40:
        return False
    step = _matching_step(user.totp_secret, code, time.time() if at is None else at)
    with db.transaction() as store:
        if step is not None:
            return store.credentials.accept_totp_step(user_id, step)
        return store.credentials.use_recovery_code(user_id, _recovery_hash(code))


def recovery_codes_left(db: Database, user_id: int) -> int:
    with db.read() as store:
        return store.credentials.unused_recovery_codes(user_id)


def reset_second_factor(db: Database, email: str, *, actor: str) -> bool:
    """Remove the user's second factor and recovery codes; False when there was none.
    ``actor``: the administrator (or ``cli``), for the audit log."""
    user = get_user(db, email)
    if user.totp_secret is None:
        return False
    with db.transaction() as store:
        if store.accounts.user_by_id(user.id) is None:
            raise NotFound(f"there is no user {email!r}")
        store.credentials.set_totp(user.id, None)
        record_admin_action(store, actor, "user_two_factor_reset", user.email)
    return True
