"""Users with argon2 password hashes; API tokens stored as hashes only."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from engine.exceptions import AlreadyExists, InvalidInput, NotFound
from engine.services import (
    Database,
    authenticate_user,
    create_api_token,
    create_user,
    revoke_api_token,
    set_password,
    set_user_active,
    user_for_token,
    users_with_role,
)
from engine.services.tokens import hash_token

PASSWORD = "correct horse battery"


def _column(db: Database, sql: str) -> list[Any]:
    with db.engine.connect() as connection:
        return [row[0] for row in connection.execute(text(sql))]


def test_create_and_authenticate(db: Database) -> None:
    user = create_user(db, "  Coord@Example.ORG ", ["coordinator"], PASSWORD)
    assert (user.email, user.roles, user.active) == ("coord@example.org", ("coordinator",), True)
    [stored] = _column(db, "SELECT password_hash FROM users")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert "password_hash" not in repr(user)

    assert authenticate_user(db, "COORD@example.org", PASSWORD) == user
    assert authenticate_user(db, "coord@example.org", "wrong password") is None
    assert authenticate_user(db, "nobody@example.org", PASSWORD) is None
    assert authenticate_user(db, "not an email", PASSWORD) is None


def test_inactive_users_and_password_changes(db: Database) -> None:
    create_user(db, "a@example.org", ["admin"], PASSWORD)
    set_password(db, "a@example.org", "another long secret")
    assert authenticate_user(db, "a@example.org", PASSWORD) is None
    assert authenticate_user(db, "a@example.org", "another long secret") is not None
    set_user_active(db, "a@example.org", False)
    assert authenticate_user(db, "a@example.org", "another long secret") is None
    assert users_with_role(db, "admin") == []


def test_user_input_is_checked(db: Database) -> None:
    create_user(db, "a@example.org", ["admin"])
    with pytest.raises(AlreadyExists):
        create_user(db, "A@example.org", ["coordinator"])
    with pytest.raises(InvalidInput) as bad_email:
        create_user(db, "no-at-sign", ["admin"])
    assert bad_email.value.field == "email"
    with pytest.raises(InvalidInput):
        create_user(db, "b@example.org", ["Bad Role"])
    with pytest.raises(InvalidInput):
        create_user(db, "b@example.org", [])
    with pytest.raises(InvalidInput, match="at least"):
        create_user(db, "b@example.org", ["admin"], "short")
    assert _column(db, "SELECT email FROM users") == ["a@example.org"]
    with pytest.raises(NotFound):
        set_password(db, "ghost@example.org", PASSWORD)


def test_api_tokens_are_hashed_resolve_to_their_user_and_can_be_revoked(
    db: Database, clock: Any
) -> None:
    user = create_user(db, "c@example.org", ["coordinator", "admin"])
    token, record = create_api_token(db, "c@example.org")
    assert len(token) >= 43 and record.user_id == user.id and record.last_used_at is None
    assert _column(db, "SELECT token_hash FROM api_tokens") == [hash_token(token)]

    assert user_for_token(db, token) == user
    assert _column(db, "SELECT last_used_at FROM api_tokens")[0] is not None
    assert user_for_token(db, token + "x") is None
    assert user_for_token(db, "") is None

    other, _ = create_api_token(db, "c@example.org")
    assert other != token
    assert revoke_api_token(db, token)
    assert user_for_token(db, token) is None
    assert user_for_token(db, other) == user
    set_user_active(db, "c@example.org", False)
    assert user_for_token(db, other) is None
    with pytest.raises(NotFound):
        create_api_token(db, "ghost@example.org")
