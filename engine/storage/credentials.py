"""What proves who a staff user is, beyond the password hash: set-password links, the second
factor (its secret, the last accepted step, recovery codes) and the linked single sign-on
identity. Secrets of links and recovery codes arrive here as digests only."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update

from engine.records import AccountLinkRecord, UserRecord
from engine.storage.accounts import user_record
from engine.storage.repository import Repository
from engine.storage.tables import AccountLinkRow, RecoveryCodeRow, UserRow

__all__ = ["CredentialRepository"]


class CredentialRepository(Repository):
    # -- set-password links ---------------------------------------------------------------

    def add_link(
        self, *, user_id: int, purpose: str, token_hash: str, expires_at: datetime
    ) -> AccountLinkRecord:
        """A new link; every earlier unused link of the user stops working (one at a time)."""
        self.retire_links(user_id)
        row = AccountLinkRow(user_id=user_id, purpose=purpose, token_hash=token_hash,
                             created_at=self._now, expires_at=expires_at, used_at=None)
        self._session.add(row)
        self._session.flush()
        return _link(row)

    def link_by_hash(self, token_hash: str) -> tuple[AccountLinkRecord, UserRecord] | None:
        found = self._session.execute(
            select(AccountLinkRow, UserRow)
            .join(UserRow, UserRow.id == AccountLinkRow.user_id)
            .where(AccountLinkRow.token_hash == token_hash)
            .execution_options(populate_existing=True)
        ).first()
        if found is None:
            return None
        return _link(found[0]), user_record(found[1])

    def use_link(self, link_id: int) -> bool:
        """Mark the link used; False when it was used already (a concurrent use lost)."""
        result = self._session.execute(
            update(AccountLinkRow)
            .where(AccountLinkRow.id == link_id, AccountLinkRow.used_at.is_(None))
            .values(used_at=self._now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0)) == 1

    def retire_links(self, user_id: int) -> None:
        self._session.execute(
            update(AccountLinkRow)
            .where(AccountLinkRow.user_id == user_id, AccountLinkRow.used_at.is_(None))
            .values(used_at=self._now)
            .execution_options(synchronize_session=False)
        )

    # -- the second factor ----------------------------------------------------------------

    def set_totp(self, user_id: int, secret: str | None) -> None:
        """Enrol (a secret) or remove (None) the second factor; its recovery codes go too."""
        self._session.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(totp_secret=secret, totp_last_step=None)
            .execution_options(synchronize_session=False)
        )
        self._session.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.user_id == user_id))

    def accept_totp_step(self, user_id: int, step: int) -> bool:
        """Record ``step`` as used when it is later than the last accepted one; False: the
        code (or an earlier one) was used already — a replay."""
        result = self._session.execute(
            update(UserRow)
            .where(
                UserRow.id == user_id,
                or_(UserRow.totp_last_step.is_(None), UserRow.totp_last_step < step),
            )
            .values(totp_last_step=step)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0)) == 1

    def replace_recovery_codes(self, user_id: int, code_hashes: Sequence[str]) -> None:
        self._session.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.user_id == user_id))
        self._session.add_all(
            RecoveryCodeRow(user_id=user_id, code_hash=code_hash, used_at=None)
            for code_hash in code_hashes
        )
        self._session.flush()

    def use_recovery_code(self, user_id: int, code_hash: str) -> bool:
        """Spend one unused code with this digest; False when there is none."""
        result = self._session.execute(
            update(RecoveryCodeRow)
            .where(
                RecoveryCodeRow.user_id == user_id,
                RecoveryCodeRow.code_hash == code_hash,
                RecoveryCodeRow.used_at.is_(None),
            )
            .values(used_at=self._now)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0)) >= 1

    def unused_recovery_codes(self, user_id: int) -> int:
        return int(self._session.scalar(
            select(func.count())
            .select_from(RecoveryCodeRow)
            .where(RecoveryCodeRow.user_id == user_id, RecoveryCodeRow.used_at.is_(None))
        ) or 0)

    # -- single sign-on -------------------------------------------------------------------

    def user_by_subject(self, subject: str) -> UserRecord | None:
        row = self._session.scalars(
            select(UserRow)
            .where(UserRow.oidc_subject == subject)
            .execution_options(populate_existing=True)
        ).first()
        return user_record(row) if row is not None else None

    def link_subject(self, user_id: int, subject: str) -> None:
        self._session.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(oidc_subject=subject)
            .execution_options(synchronize_session=False)
        )

    def set_local_login(self, user_id: int, allowed: bool) -> None:
        self._session.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(local_login=allowed)
            .execution_options(synchronize_session=False)
        )


def _link(row: AccountLinkRow) -> AccountLinkRecord:
    return AccountLinkRecord(
        id=row.id,
        user_id=row.user_id,
        purpose=row.purpose,
        created_at=row.created_at,
        expires_at=row.expires_at,
        used_at=row.used_at,
    )
