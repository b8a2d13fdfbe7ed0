"""Managing staff accounts from the administration pages: list, roles, API tokens.

Creating users, (de)activating them and making tokens are ``engine.services.users``; this
module adds what an administration page needs on top — the list of everyone, changing roles,
each user's tokens, revoking one token by its id (the plain token is shown only once and is
never known again) — and one safety rule: the last active administrator can neither lose the
role nor be deactivated, so an installation cannot lock itself out of its own administration.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from engine.exceptions import InvalidInput, NotFound
from engine.services.audit import record_admin_action
from engine.services.users import clean_roles, get_user, normalise_email, set_user_active

if TYPE_CHECKING:
    from engine.records import ApiTokenRecord, UserRecord
    from engine.storage import Database, Store


__all__ = [
    "ADMIN_ROLE",
    "change_user_active",
    "list_users",
    "revoke_token_of",
    "set_user_roles",
    "tokens_of",
]

ADMIN_ROLE = "admin"
LAST_ADMIN_MESSAGE = "at least one active administrator must remain"


def list_users(db: Database) -> list[UserRecord]:
    """Every user, active or not, by email."""
    with db.read() as store:
        users = store.accounts.all_users()
    return sorted(users, key=lambda u: u.email)


def _other_active_admins(store: Store, user_id: int) -> int:
    return sum(
        1 for u in store.accounts.all_users()
        if u.active and ADMIN_ROLE in u.roles and u.id != user_id
    )


def set_user_roles(
    db: Database, email: str, roles: Iterable[str], *, actor: str | None = None
) -> UserRecord:
    """Replace the user's roles; ``InvalidInput`` for bad roles or the last administrator."""
    cleaned = clean_roles(roles)
    address = normalise_email(email)
    with db.transaction() as store:
        user = store.accounts.user_by_email(address)
        if user is None:
            raise NotFound(f"there is no user {email!r}")
        if ADMIN_ROLE in user.roles and ADMIN_ROLE not in cleaned and user.active \
                and _other_active_admins(store, user.id) == 0:
            raise InvalidInput("roles", LAST_ADMIN_MESSAGE)
        # Losing a role ends the user's sessions: a page opened with it must not stay usable.
        lost_a_role = bool(set(user.roles) - set(cleaned))
        store.accounts.update_user(user.id, roles=cleaned, end_sessions=lost_a_role)
        if actor is not None:
            record_admin_action(store, actor, "user_roles", user.email,
                                "roles: " + ", ".join(cleaned))
        updated = store.accounts.user_by_id(user.id)
    assert updated is not None
    return updated


def change_user_active(
    db: Database, email: str, active: bool, *, actor: str | None = None
) -> UserRecord:
    """(De)activate a user; a deactivated user can neither sign in nor use API tokens."""
    user = get_user(db, email)
    if not active and ADMIN_ROLE in user.roles and user.active:
        with db.read() as store:
            if _other_active_admins(store, user.id) == 0:
                raise InvalidInput("active", LAST_ADMIN_MESSAGE)
    set_user_active(db, email, active, actor=actor)
    return get_user(db, email)


def tokens_of(db: Database, email: str) -> list[ApiTokenRecord]:
    """The user's API tokens (records only: the secrets are not stored)."""
    user = get_user(db, email)
    with db.read() as store:
        return store.accounts.tokens_of(user.id)


def revoke_token_of(
    db: Database, email: str, token_id: int, *, actor: str | None = None
) -> bool:
    """Revoke one of the user's tokens by id; ``NotFound`` when it is not theirs."""
    user = get_user(db, email)
    with db.transaction() as store:
        if not any(t.id == token_id for t in store.accounts.tokens_of(user.id)):
            raise NotFound(f"user {user.email} has no API token {token_id}")
        revoked = store.accounts.revoke_token(token_id)
        if revoked and actor is not None:
            record_admin_action(store, actor, "token_revoke", f"token {token_id} of {user.email}")
        return revoked
