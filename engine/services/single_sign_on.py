"""Staff who sign in through an OpenID Connect provider: who they are here, and with which roles.

Why it looks the way it does:

* A provider's user is known by issuer and ``sub`` (stored as ``"<issuer> <sub>"``): e-mail
  addresses change and can be reused, ``sub`` does not. The first sign-in links an existing
  local account only when the provider says the address is verified; an unverified address
  that belongs to someone here is refused rather than taken over. Someone new is created
  (without a password).
* The provider decides the roles: they are set at every sign-in from its claim (mapped by
  FORMFLOW_OIDC_ROLE_MAP in the web layer). Fewer roles than before end the user's other
  sessions, as a role change by an administrator does. Nobody without a mapped role gets in.
* A deactivated user stays out, whatever the provider says.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from engine.exceptions import FormflowError, InvalidInput
from engine.services.users import clean_roles, normalise_email

if TYPE_CHECKING:
    from engine.records import UserRecord
    from engine.storage import Database


__all__ = ["SignInRefused", "provider_user"]


class SignInRefused(FormflowError):
    """The provider's user may not sign in here; ``reason`` says why (for the page)."""

    code = "sign_in_refused"

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


def provider_user(
    db: Database,
    *,
    issuer: str,
    subject: str,
    email: str | None,
    email_verified: bool,
    roles: Iterable[str],
) -> UserRecord:
    """The local user for the provider's ``subject`` with ``roles`` (linked or created);
    :class:`SignInRefused` with reason ``no_role``, ``inactive``, ``unverified_email`` or
    ``no_email``."""
    role_list = sorted(set(roles))
    if not role_list:
        raise SignInRefused("no_role", "the provider grants this user no role here")
    role_list = clean_roles(role_list)
    key = f"{issuer} {subject}"
    try:
        address = normalise_email(email or "")
    except InvalidInput:
        address = None
    with db.transaction() as store:
        user = store.credentials.user_by_subject(key)
        if user is None:
            existing = store.accounts.user_by_email(address) if address else None
            if existing is not None:
                if existing.oidc_subject is not None or not email_verified:
                    raise SignInRefused(
                        "unverified_email",
                        "an account with this address exists, and the provider does not "
                        "vouch for the address",
                    )
                store.credentials.link_subject(existing.id, key)
                user = existing
            elif address is None:
                raise SignInRefused("no_email", "the provider sent no usable email address")
            else:
                user = store.accounts.add_user(email=address, roles=role_list,
                                               password_hash=None)
                store.credentials.link_subject(user.id, key)
        if not user.active:
            raise SignInRefused("inactive", "this account is deactivated")
        if tuple(role_list) != user.roles:
            fewer = not set(user.roles) <= set(role_list)
            store.accounts.update_user(user.id, roles=role_list, end_sessions=fewer)
        updated = store.accounts.user_by_id(user.id)
    assert updated is not None
    return updated
