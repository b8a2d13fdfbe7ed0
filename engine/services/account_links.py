"""Single-use links that let a staff user set a password: a reset ("Passwort vergessen?", or
sent by an administrator) and an invitation (a new user chooses their first password).

Why it looks the way it does:

* The link carries a random 256-bit secret; only its sha256 digest is stored, so a copy of
  the database opens no account. A new link of a user retires the older unused ones, and
  setting a password (by a link or otherwise) retires them all.
* A reset link is valid for :data:`RESET_VALIDITY`, an invitation for
  :data:`INVITE_VALIDITY`, measured by the database's clock. A link works once: using it is
  a conditional update, so two concurrent uses cannot both succeed.
* A new password set through a link ends every session of the user (session generation).
* An administrator never sees or types a password: inviting creates the user without one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from engine.exceptions import InvalidInput, NotFound
from engine.services.audit import record_admin_action
from engine.services.tokens import hash_token, new_token
from engine.services.users import clean_roles, get_user, hash_password, normalise_email

if TYPE_CHECKING:
    from engine.records import AccountLinkRecord, UserRecord
    from engine.storage import Database


__all__ = [
    "INVITE_VALIDITY",
    "RESET_VALIDITY",
    "IssuedLink",
    "LinkInvalid",
    "check_link",
    "invite_user",
    "issue_link",
    "set_password_with_link",
]

RESET_VALIDITY = timedelta(minutes=60)
INVITE_VALIDITY = timedelta(days=7)
_VALIDITY = {"reset": RESET_VALIDITY, "invite": INVITE_VALIDITY}


class LinkInvalid(InvalidInput):
    """The link is unknown, used, expired or its user deactivated (one answer for all)."""

    def __init__(self) -> None:
        super().__init__("link", "this link is not valid (any more)")


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A new link: the plain secret (for the mail, never stored), its record and user."""

    token: str
    record: AccountLinkRecord
    user: UserRecord


def issue_link(db: Database, email: str, purpose: str, *, actor: str | None = None
               ) -> IssuedLink:
    """A new ``reset`` or ``invite`` link for the active user ``email`` (``NotFound``);
    ``actor``: the administrator who sent it, for the audit log (``None``: the user asked)."""
    if purpose not in _VALIDITY:
        raise InvalidInput("purpose", f"not a link purpose: {purpose!r}")
    user = get_user(db, email)
    if not user.active:
        raise NotFound(f"there is no active user {email!r}")
    token = new_token()
    with db.transaction() as store:
        record = store.credentials.add_link(
            user_id=user.id, purpose=purpose, token_hash=hash_token(token),
            expires_at=store.now + _VALIDITY[purpose],
        )
        if actor is not None:
            record_admin_action(store, actor, f"user_link_{purpose}", user.email)
    return IssuedLink(token, record, user)


def invite_user(db: Database, email: str, roles: list[str], *, actor: str) -> IssuedLink:
    """Create ``email`` with ``roles`` and no password, and an invitation link for them;
    ``AlreadyExists`` for a taken address (re-send with ``issue_link(…, "invite")``)."""
    address = normalise_email(email)
    role_list = clean_roles(roles)
    token = new_token()
    with db.transaction() as store:
        user = store.accounts.add_user(email=address, roles=role_list, password_hash=None)
        record = store.credentials.add_link(
            user_id=user.id, purpose="invite", token_hash=hash_token(token),
            expires_at=store.now + INVITE_VALIDITY,
        )
        record_admin_action(store, actor, "user_invite", user.email, ",".join(role_list))
    return IssuedLink(token, record, user)


def check_link(db: Database, token: str) -> tuple[AccountLinkRecord, UserRecord]:
    """The link and its user while the link can be used; :class:`LinkInvalid` otherwise."""
    if not token or len(token) > 200:
        raise LinkInvalid()
    with db.read() as store:
        found = store.credentials.link_by_hash(hash_token(token))
        now = store.now
    if found is None:
        raise LinkInvalid()
    link, user = found
    if link.used_at is not None or link.expires_at <= now or not user.active:
        raise LinkInvalid()
    return link, user


def set_password_with_link(db: Database, token: str, password: str) -> UserRecord:
    """Set the password of the link's user and spend the link; every session of the user
    ends. :class:`LinkInvalid` or ``WeakPassword`` (the link stays usable then)."""
    link, user = check_link(db, token)
    password_hash = hash_password(password)
    with db.transaction() as store:
        if not store.credentials.use_link(link.id):
            raise LinkInvalid()
        store.accounts.update_user(user.id, password_hash=password_hash, end_sessions=True)
        store.credentials.retire_links(user.id)
        changed = store.accounts.user_by_id(user.id)
    assert changed is not None
    return changed
