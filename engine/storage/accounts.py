"""Staff users and their API tokens (hashes only; plain secrets never reach this layer)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from engine.exceptions import AlreadyExists
from engine.records import ApiTokenRecord, UserRecord
from engine.storage.repository import Repository
from engine.storage.tables import ApiTokenRow, UserRow

__all__ = ["AccountRepository", "user_record"]


class AccountRepository(Repository):
    # -- users ----------------------------------------------------------------------------

    def add_user(
        self, *, email: str, roles: Sequence[str], password_hash: str | None, active: bool = True
    ) -> UserRecord:
        """Raises :class:`AlreadyExists` when the (normalised) email is taken."""
        row = UserRow(
            email=email,
            roles=list(roles),
            password_hash=password_hash,
            active=active,
            created_at=self._now,
        )
        try:
            with self._session.begin_nested():
                self._session.add(row)
                self._session.flush()
        except IntegrityError:
            raise AlreadyExists(f"a user with the email {email} already exists") from None
        return user_record(row)

    def user_by_email(self, email: str) -> UserRecord | None:
        row = self._session.scalars(
            select(UserRow).where(UserRow.email == email).execution_options(populate_existing=True)
        ).first()
        return user_record(row) if row is not None else None

    def user_by_id(self, user_id: int) -> UserRecord | None:
        row = self._session.get(UserRow, user_id, populate_existing=True)
        return user_record(row) if row is not None else None

    def users_with_role(self, role: str) -> list[UserRecord]:
        """Active users holding ``role``, by email (filtered here: JSON lists stay portable)."""
        rows = self._session.scalars(
            select(UserRow)
            .where(UserRow.active.is_(True))
            .order_by(UserRow.email)
            .execution_options(populate_existing=True)
        )
        return [user_record(row) for row in rows if role in row.roles]

    def active_staff(self) -> list[tuple[str, tuple[str, ...]]]:
        """(email, roles) of every active user, by email: the recipients of ``role:``
        notifications."""
        rows = self._session.execute(
            select(UserRow.email, UserRow.roles)
            .where(UserRow.active.is_(True))
            .order_by(UserRow.email)
        )
        return [(email, tuple(roles)) for email, roles in rows]

    def all_users(self) -> list[UserRecord]:
        rows = self._session.scalars(select(UserRow).order_by(UserRow.id))
        return [user_record(row) for row in rows]

    def update_user(
        self,
        user_id: int,
        *,
        password_hash: str | None = None,
        roles: Sequence[str] | None = None,
        active: bool | None = None,
        end_sessions: bool = False,
    ) -> bool:
        """Change what is given; ``end_sessions`` raises the session generation, which ends
        every session and remember-me cookie of the user (the web layer checks it)."""
        values: dict[str, object] = {}
        if password_hash is not None:
            values["password_hash"] = password_hash
        if roles is not None:
            values["roles"] = list(roles)
        if active is not None:
            values["active"] = active
        if end_sessions:
            values["session_generation"] = UserRow.session_generation + 1
        if not values:
            return self.user_by_id(user_id) is not None
        result = self._session.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0)) == 1

    # -- API tokens -----------------------------------------------------------------------

    def add_token(self, *, user_id: int, token_hash: str) -> ApiTokenRecord:
        row = ApiTokenRow(
            token_hash=token_hash,
            user_id=user_id,
            created_at=self._now,
            last_used_at=None,
            revoked=False,
        )
        self._session.add(row)
        self._session.flush()
        return _token(row)

    def token_by_hash(self, token_hash: str) -> tuple[ApiTokenRecord, UserRecord] | None:
        found = self._session.execute(
            select(ApiTokenRow, UserRow)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .where(ApiTokenRow.token_hash == token_hash)
            .execution_options(populate_existing=True)
        ).first()
        if found is None:
            return None
        return _token(found[0]), user_record(found[1])

    def tokens_of(self, user_id: int) -> list[ApiTokenRecord]:
        rows = self._session.scalars(
            select(ApiTokenRow).where(ApiTokenRow.user_id == user_id).order_by(ApiTokenRow.id)
        )
        return [_token(row) for row in rows]

    def touch_token(self, token_id: int) -> None:
        self._session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.id == token_id)
            .values(last_used_at=self._now)
            .execution_options(synchronize_session=False)
        )

    def revoke_tokens_of(self, user_id: int) -> int:
        """Revoke every token of the user; the number of tokens that were still valid."""
        result = self._session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.user_id == user_id, ApiTokenRow.revoked.is_(False))
            .values(revoked=True)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0))

    def revoke_token(self, token_id: int) -> bool:
        result = self._session.execute(
            update(ApiTokenRow)
            .where(ApiTokenRow.id == token_id)
            .values(revoked=True)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0)) == 1


def user_record(row: UserRow) -> UserRecord:
    """The record of a user row (shared with :mod:`engine.storage.credentials`)."""
    return UserRecord(
        id=row.id,
        email=row.email,
        roles=tuple(row.roles),
        active=row.active,
        created_at=row.created_at,
        password_hash=row.password_hash,
        session_generation=row.session_generation,
        totp_secret=row.totp_secret,
        oidc_subject=row.oidc_subject,
        local_login=bool(row.local_login),
    )


def _token(row: ApiTokenRow) -> ApiTokenRecord:
    return ApiTokenRecord(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked=row.revoked,
    )
