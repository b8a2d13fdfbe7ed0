"""Staff accounts: users with roles and argon2 password hashes, and their API tokens.

Emails are stored normalised (trimmed, lower case) so that logging in does not depend on how
someone typed their address. Passwords are hashed with argon2id (argon2-cffi defaults) and
re-hashed transparently on login when the parameters get stronger. API tokens are random
256-bit secrets shown once and stored as sha256 digests (see ``engine.services.tokens``).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable
from datetime import timedelta
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from engine.exceptions import InvalidInput, NotFound
from engine.services.audit import record_admin_action
from engine.services.tokens import hash_token, new_token

if TYPE_CHECKING:
    from engine.records import ApiTokenRecord, UserRecord
    from engine.storage import Database, Store


__all__ = [
    "KNOWN_ROLES",
    "MIN_PASSWORD_LENGTH",
    "WeakPassword",
    "authenticate_user",
    "change_password",
    "check_password",
    "clean_roles",
    "create_api_token",
    "create_user",
    "end_sessions",
    "get_user",
    "get_user_by_id",
    "hash_password",
    "normalise_email",
    "revoke_api_token",
    "set_password",
    "set_user_active",
    "user_for_token",
    "users_with_role",
    "verify_password",
]

KNOWN_ROLES = ("coordinator", "admin")
"""The built-in roles; workflows may name custom ones (same id syntax)."""
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
"""As the login form accepts: longer is no safer and only costs hashing time."""
COMMON_PASSWORDS_FILE = "data/common-passwords.txt.gz"
"""20,000 common passwords, one a line, lower case (see engine/data/README.md)."""
TOUCH_INTERVAL = timedelta(minutes=1)
"""``last_used_at`` is refreshed at most this often, sparing a write on every API call."""

_ROLE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()


class WeakPassword(InvalidInput):
    """A password a rule refuses; ``rule`` is ``too_short``, ``too_long`` or ``common``."""

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        super().__init__("password", message)


@cache
def _common_passwords() -> frozenset[str]:
    data = resources.files("engine").joinpath(COMMON_PASSWORDS_FILE).read_bytes()
    return frozenset(gzip.decompress(data).decode("utf-8").split())


def check_password(password: str) -> None:
    """Raise :class:`WeakPassword` naming the first rule ``password`` breaks: at least
    ``MIN_PASSWORD_LENGTH`` characters, and not one of the shipped common passwords (compared
    in lower case, so "Password1234" counts as common too)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(
            "too_short", f"a password needs at least {MIN_PASSWORD_LENGTH} characters"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise WeakPassword(
            "too_long", f"a password may have at most {MAX_PASSWORD_LENGTH} characters"
        )
    if password.strip().lower() in _common_passwords():
        raise WeakPassword("common", "this password is on the list of common passwords")


@cache
def _dummy_hash() -> str:
    """A real hash to verify against for unknown users, built on first use (not on import)."""
    return _hasher.hash("formflow: equalises timing for unknown users")


def normalise_email(email: str) -> str:
    value = (email or "").strip().lower()
    if len(value) > 254 or not _EMAIL.match(value):
        raise InvalidInput("email", f"not a valid email address: {email!r}")
    return value


def create_user(
    db: Database, email: str, roles: Iterable[str], password: str | None = None,
    *, actor: str | None = None,
) -> UserRecord:
    """A new active user; ``AlreadyExists`` for a taken email, ``InvalidInput`` otherwise.

    ``actor`` (here and below): who did it, recorded in the audit log."""
    address = normalise_email(email)
    role_list = clean_roles(roles)
    password_hash = _hash_password(password) if password is not None else None
    with db.transaction() as store:
        user = store.accounts.add_user(
            email=address, roles=role_list, password_hash=password_hash
        )
        _audit(store, actor, "user_create", address, "roles: " + ", ".join(role_list))
        return user


def get_user(db: Database, email: str) -> UserRecord:
    with db.read() as store:
        user = store.accounts.user_by_email(normalise_email(email))
    if user is None:
        raise NotFound(f"there is no user {email!r}")
    return user


def users_with_role(db: Database, role: str) -> list[UserRecord]:
    with db.read() as store:
        return store.accounts.users_with_role(role)


def get_user_by_id(db: Database, user_id: int) -> UserRecord | None:
    """The user with this id (active or not), or None."""
    with db.read() as store:
        return store.accounts.user_by_id(user_id)


def set_password(db: Database, email: str, password: str, *, local: bool = False,
                 actor: str | None = None) -> None:
    """A new password; every session of the user ends (whoever knew the old one is out) and
    unused set-password links stop working. ``local``: the user may sign in with it even
    when local sign-in is switched off (``formflow users set-password``, break-glass);
    ``actor``: who set it, for the audit log (``None``: the user themselves)."""
    user = get_user(db, email)
    password_hash = _hash_password(password)
    with db.transaction() as store:
        store.accounts.update_user(user.id, password_hash=password_hash, end_sessions=True)
        store.credentials.retire_links(user.id)
        if local:
            store.credentials.set_local_login(user.id, True)
        _audit(store, actor, "user_password", user.email)


def change_password(db: Database, user_id: int, current: str, new: str) -> UserRecord:
    """The signed-in user's own change: ``InvalidInput("current_password")`` when ``current``
    is wrong, :class:`WeakPassword` for a refused new one. Every session of the user ends
    (the caller signs the current one in again with the returned record)."""
    user = get_user_by_id(db, user_id)
    if user is None or not user.active:
        raise NotFound("there is no such user")
    if not verify_password(user.password_hash, current):
        raise InvalidInput("current_password", "the current password is wrong")
    password_hash = _hash_password(new)
    with db.transaction() as store:
        store.accounts.update_user(user.id, password_hash=password_hash, end_sessions=True)
        store.credentials.retire_links(user.id)
        changed = store.accounts.user_by_id(user.id)
    assert changed is not None
    return changed


def set_user_active(
    db: Database, email: str, active: bool, *, actor: str | None = None
) -> None:
    """(De)activate a user. Deactivation ends every session of the user and revokes their
    API tokens for good: reactivating the user later revives neither."""
    user = get_user(db, email)
    with db.transaction() as store:
        store.accounts.update_user(user.id, active=active, end_sessions=not active)
        if not active:
            store.accounts.revoke_tokens_of(user.id)
        _audit(store, actor, "user_active", user.email, "active" if active else "inactive")


def end_sessions(db: Database, user_id: int) -> None:
    """End every session of the user, on every device (signing out; the user stays active)."""
    with db.transaction() as store:
        store.accounts.update_user(user_id, end_sessions=True)


def authenticate_user(db: Database, email: str, password: str) -> UserRecord | None:
    """The active user with this email and password, else None (never says which was wrong)."""
    try:
        address = normalise_email(email)
    except InvalidInput:
        address = None
    user = None
    if address is not None:
        with db.read() as store:
            user = store.accounts.user_by_email(address)
    stored = user.password_hash if user is not None and user.active else None
    if stored is None:
        _verify(_dummy_hash(), password)  # same cost whether or not the account exists
        return None
    if not _verify(stored, password):
        return None
    assert user is not None
    if _hasher.check_needs_rehash(stored):
        with db.transaction() as store:
            store.accounts.update_user(user.id, password_hash=_hasher.hash(password))
    return user


def create_api_token(
    db: Database, email: str, *, actor: str | None = None
) -> tuple[str, ApiTokenRecord]:
    """A new API token for the user: the plain token (shown once) and its record."""
    user = get_user(db, email)
    token = new_token()
    with db.transaction() as store:
        record = store.accounts.add_token(user_id=user.id, token_hash=hash_token(token))
        _audit(store, actor, "token_create", f"token {record.id} of {user.email}")
    return token, record


def user_for_token(db: Database, token: str) -> UserRecord | None:
    """The active user owning this unrevoked API token, or None."""
    if not token:
        return None
    with db.read() as store:
        found = store.accounts.token_by_hash(hash_token(token))
        now = store.now
    if found is None:
        return None
    record, user = found
    if record.revoked or not user.active:
        return None
    if record.last_used_at is None or now - record.last_used_at >= TOUCH_INTERVAL:
        with db.transaction() as store:
            store.accounts.touch_token(record.id)
    return user


def revoke_api_token(db: Database, token: str, *, actor: str | None = None) -> bool:
    with db.transaction() as store:
        found = store.accounts.token_by_hash(hash_token(token))
        revoked = found is not None and store.accounts.revoke_token(found[0].id)
        if found is not None and revoked:
            _audit(store, actor, "token_revoke", f"token {found[0].id} of {found[1].email}")
        return revoked


def _audit(
    store: Store, actor: str | None, action: str, object_ref: str, detail: str | None = None
) -> None:
    if actor is not None:
        record_admin_action(store, actor, action, object_ref, detail)


def clean_roles(roles: Iterable[str]) -> list[str]:
    """Role names sorted and de-duplicated; ``InvalidInput`` for none or a malformed one."""
    cleaned = sorted({r.strip() for r in ([roles] if isinstance(roles, str) else roles)})
    if not cleaned:
        raise InvalidInput("roles", "a user needs at least one role")
    for role in cleaned:
        if not _ROLE.match(role):
            raise InvalidInput("roles", f"not a role name: {role!r}")
    return cleaned


def _hash_password(password: str) -> str:
    check_password(password)
    return _hasher.hash(password)


def hash_password(password: str) -> str:
    """The argon2 hash of an acceptable password (:class:`WeakPassword` otherwise)."""
    return _hash_password(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; the same work when there is no hash."""
    if stored is None:
        _verify(_dummy_hash(), password)
        return False
    return _verify(stored, password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
