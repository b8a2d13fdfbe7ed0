"""Migration 0015 and the credentials of staff users on SQLite and PostgreSQL: single-use
links, the no-replay step of the second factor, recovery codes, single sign-on identities."""

from __future__ import annotations

import time

import pyotp
import pytest
from sqlalchemy import JSON, column, insert, table

from engine.services import Database, create_user, get_user
from engine.services.account_links import (
    LinkInvalid,
    check_link,
    issue_link,
    set_password_with_link,
)
from engine.services.audit import AuditQuery, audit_entries
from engine.services.single_sign_on import SignInRefused, provider_user
from engine.services.two_factor import (
    confirm_enrolment,
    new_secret,
    recovery_codes_left,
    reset_second_factor,
    verify_second_factor,
)
from engine.storage.tables import UTCDateTime

PASSWORD = "a long enough password"


@pytest.fixture
def db(database_url: str) -> Database:
    database = Database(database_url)
    database.upgrade()
    create_user(database, "staff@example.org", ["coordinator"], PASSWORD)
    return database


def test_upgrade_to_0015_keeps_users_without_second_factor_or_links(database_url: str
                                                                    ) -> None:
    db = Database(database_url)
    db.upgrade("0013_event_notes")
    users = table("users", column("email"), column("roles", JSON), column("active"),
                  column("created_at", UTCDateTime()))
    with db.engine.begin() as connection:
        connection.execute(insert(users).values(
            email="kept@example.org", roles=["admin"], active=True, created_at=db.now()))
    db.upgrade()
    kept = get_user(db, "kept@example.org")
    assert kept.roles == ("admin",) and not kept.has_second_factor
    assert kept.oidc_subject is None and kept.local_login is False
    db.dispose()


def test_a_link_works_once(db: Database) -> None:
    issued = issue_link(db, "staff@example.org", "reset")
    set_password_with_link(db, issued.token, "the first new password")
    with pytest.raises(LinkInvalid):
        set_password_with_link(db, issued.token, "the second new password")
    with pytest.raises(LinkInvalid):
        check_link(db, issued.token)
    db.dispose()


def test_a_one_time_code_is_accepted_once(db: Database) -> None:
    user = get_user(db, "staff@example.org")
    secret = new_secret()
    now = time.time()
    codes = confirm_enrolment(db, user.id, secret, pyotp.TOTP(secret).at(now), at=now)
    later = pyotp.TOTP(secret).at(now + 30)
    assert verify_second_factor(db, user.id, later, at=now)
    assert not verify_second_factor(db, user.id, later, at=now)
    assert verify_second_factor(db, user.id, codes[3], at=now)
    assert not verify_second_factor(db, user.id, codes[3], at=now)
    assert recovery_codes_left(db, user.id) == 9
    assert reset_second_factor(db, "staff@example.org", actor="admin@example.org")
    assert recovery_codes_left(db, user.id) == 0
    assert not get_user(db, "staff@example.org").has_second_factor
    entries, _ = audit_entries(db, AuditQuery(action="user_two_factor_reset"))
    assert [(e.actor, e.object_ref) for e in entries] == [
        ("admin@example.org", "staff@example.org")]
    assert not reset_second_factor(db, "staff@example.org", actor="admin@example.org")
    assert audit_entries(db, AuditQuery(action="user_two_factor_reset"))[1] == 1
    db.dispose()


def test_one_provider_identity_per_user(db: Database) -> None:
    first = provider_user(db, issuer="https://id.example.org", subject="a",
                          email="staff@example.org", email_verified=True,
                          roles=["coordinator"])
    assert first.oidc_subject == "https://id.example.org a"
    with pytest.raises(SignInRefused):
        provider_user(db, issuer="https://id.example.org", subject="b",
                      email="staff@example.org", email_verified=True, roles=["coordinator"])
    db.dispose()
