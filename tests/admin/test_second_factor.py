"""The second factor (issue 16): enrolment from the account page, sign-in with a code, no
replay, recovery codes, FORMFLOW_REQUIRE_2FA, an administrator's reset."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from flask import Flask
from werkzeug.test import TestResponse

from engine.services import Database, get_user
from engine.services.two_factor import (
    confirm_enrolment,
    new_secret,
    recovery_codes_left,
    verify_second_factor,
)
from support.admin import ADMIN, COORDINATOR, PASSWORD, Browser
from support.signin import csrf_field, login


def enrol(browser: Browser) -> tuple[str, list[str]]:
    """Enrol through the account page; the secret as the page shows it, the recovery codes."""
    page = browser.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'id="totp-secret"[^>]*>([^<]+)<', page).group(1)  # type: ignore[union-attr]
    secret = secret.replace(" ", "")
    response = browser.post_form("/account/two-factor", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    codes = re.findall(r"<li><code>([a-z0-9-]+)</code></li>", response.get_data(as_text=True))
    return secret, codes


def next_code(secret: str, steps: int = 1) -> str:
    """A code of a later 30-second step: still accepted (clock drift), not used yet."""
    return pyotp.TOTP(secret).at(time.time() + 30 * steps)


def send_code(client: object, code: str) -> TestResponse:
    page = client.get("/login/code").get_data(as_text=True)  # type: ignore[attr-defined]
    return client.post("/login/code", data={"code": code, **csrf_field(page)})  # type: ignore[attr-defined]


def test_enrolment_shows_a_local_qr_code_and_the_secret(coordinator: Browser) -> None:
    response = coordinator.get("/account/two-factor")
    page = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)  # type: ignore[union-attr]
    assert "<path" in svg and "http" not in svg and "<img" not in page
    secret = re.search(r'id="totp-secret"[^>]*>([^<]+)<', page).group(1)  # type: ignore[union-attr]
    assert len(secret.replace(" ", "")) == 32


def test_a_wrong_code_enrols_nothing(coordinator: Browser, db: Database) -> None:
    coordinator.get("/account/two-factor")
    response = coordinator.post_form("/account/two-factor", {"code": "000000"})
    assert response.status_code == 422
    assert "nicht gültig" in response.get_data(as_text=True)
    assert not get_user(db, COORDINATOR).has_second_factor


def test_enrolment_gives_ten_recovery_codes_stored_as_digests(
        coordinator: Browser, db: Database, database_url: str) -> None:
    _secret, codes = enrol(coordinator)
    assert len(codes) == 10 == len(set(codes))
    user = get_user(db, COORDINATOR)
    assert user.has_second_factor and recovery_codes_left(db, user.id) == 10
    from sqlalchemy import create_engine

    from engine.storage.tables import RecoveryCodeRow

    engine = create_engine(database_url)
    with engine.connect() as connection:
        stored = {row.code_hash for row in connection.execute(RecoveryCodeRow.__table__.select())}
    engine.dispose()
    assert not stored & set(codes) and all(len(h) == 64 for h in stored)
    assert "Übrige Wiederherstellungscodes: 10" in coordinator.get("/account").get_data(
        as_text=True)


def test_sign_in_asks_for_the_code_and_refuses_a_replay(app: Flask, coordinator: Browser
                                                       ) -> None:
    secret, _codes = enrol(coordinator)
    client = app.test_client()
    response = login(client, COORDINATOR, PASSWORD)
    assert response.headers["Location"].endswith("/login/code")
    assert client.get("/inbox").status_code == 302  # not signed in before the code
    code = next_code(secret)
    assert send_code(client, "123456").status_code == 422
    signed_in = send_code(client, code)
    assert signed_in.status_code == 302 and signed_in.headers["Location"].endswith("/inbox")
    assert client.get("/inbox").status_code == 200
    # the same code again, in another sign-in within its window: refused
    other = app.test_client()
    login(other, COORDINATOR, PASSWORD)
    replay = send_code(other, code)
    assert replay.status_code == 422 and other.get("/inbox").status_code == 302


def test_a_recovery_code_works_once(app: Flask, coordinator: Browser) -> None:
    _secret, codes = enrol(coordinator)
    first = app.test_client()
    login(first, COORDINATOR, PASSWORD)
    assert send_code(first, codes[0].upper()).status_code == 302  # case does not matter
    second = app.test_client()
    login(second, COORDINATOR, PASSWORD)
    assert send_code(second, codes[0]).status_code == 422
    assert send_code(second, codes[1]).status_code == 302


def test_wrong_codes_are_throttled(app: Flask, coordinator: Browser) -> None:
    enrol(coordinator)
    client = app.test_client()
    login(client, COORDINATOR, PASSWORD)
    answers = [send_code(client, "000000").status_code for _ in range(6)]
    assert answers == [422] * 5 + [429]


def test_the_service_refuses_codes_of_other_moments(db: Database) -> None:
    user = get_user(db, COORDINATOR)
    secret = new_secret()
    now = time.time()
    confirm_enrolment(db, user.id, secret, pyotp.TOTP(secret).at(now), at=now)
    totp = pyotp.TOTP(secret)
    assert not verify_second_factor(db, user.id, totp.at(now - 120), at=now)  # too old
    assert not verify_second_factor(db, user.id, totp.at(now + 120), at=now)  # too early
    assert verify_second_factor(db, user.id, totp.at(now + 30), at=now)
    # an earlier step than the last accepted one is a replay too
    assert not verify_second_factor(db, user.id, totp.at(now), at=now)


@pytest.mark.parametrize("required", ["admin", "all"])
def test_require_2fa_forces_enrolment_at_sign_in(app: Flask, db: Database, required: str
                                                 ) -> None:
    app.config["REQUIRE_2FA"] = required
    client = app.test_client()
    response = login(client, ADMIN, PASSWORD)
    assert response.headers["Location"].endswith("/login/enrol")
    assert client.get("/admin/users").status_code == 302  # not signed in yet
    page = client.get("/login/enrol").get_data(as_text=True)
    assert "braucht einen zweiten Faktor" in page
    secret = re.search(r'id="totp-secret"[^>]*>([^<]+)<', page).group(1).replace(" ", "")  # type: ignore[union-attr]
    done = client.post("/login/enrol", data={"code": pyotp.TOTP(secret).now(),
                                             **csrf_field(page)})
    assert done.status_code == 200 and 'id="recovery-codes"' in done.get_data(as_text=True)
    assert client.get("/admin/users").status_code == 200
    assert get_user(db, ADMIN).has_second_factor
    coordinator = login(app.test_client(), COORDINATOR, PASSWORD)
    expected = "/login/enrol" if required == "all" else "/inbox"
    assert coordinator.headers["Location"].endswith(expected)


def test_an_administrator_removes_a_second_factor(app: Flask, db: Database, admin: Browser,
                                                  coordinator: Browser) -> None:
    enrol(coordinator)
    user = get_user(db, COORDINATOR)
    page = admin.get("/admin/users").get_data(as_text=True)
    assert f'id="reset-2fa-{user.id}"' in page
    assert admin.post_form(f"/admin/users/{user.id}/two-factor/reset").status_code == 302
    assert not get_user(db, COORDINATOR).has_second_factor
    assert recovery_codes_left(db, user.id) == 0
    response = login(app.test_client(), COORDINATOR, PASSWORD)
    assert response.headers["Location"].endswith("/inbox")
