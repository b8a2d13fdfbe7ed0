"""Staff sessions end on the server: a copied cookie is worthless after logout, deactivation,
a lost role or FORMFLOW_SESSION_HOURS; deactivation revokes API tokens for good."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.services import Database, create_api_token, set_password
from engine.services.staff import change_user_active, set_user_roles
from support.coordinator import ADMIN, COORDINATOR, Staff
from support.signin import csrf_field
from web.db import EXTENSION_KEY


def _copy_of(client: FlaskClient, app: Flask) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie (same agent and IP)."""
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def _logout(client: FlaskClient) -> None:
    page = client.get("/inbox").get_data(as_text=True)
    assert client.post("/logout", data=csrf_field(page)).status_code == 302


def test_a_cookie_copied_before_logout_no_longer_opens_admin_pages(app: Flask) -> None:
    admin = Staff(app).client(ADMIN)
    copy = _copy_of(admin, app)
    assert copy.get("/admin/users").status_code == 200  # the copy works while signed in

    _logout(admin)

    assert copy.get("/admin/users").status_code == 302
    assert admin.get("/admin/users").status_code == 302
    assert Staff(app).client(ADMIN).get("/admin/users").status_code == 200  # signing in again


def test_logout_ends_the_users_sessions_on_other_devices(app: Flask) -> None:
    laptop, phone = Staff(app).client(COORDINATOR), Staff(app).client(COORDINATOR)
    other_user = Staff(app).client(ADMIN)
    _logout(laptop)
    assert phone.get("/inbox").status_code == 302
    assert other_user.get("/inbox").status_code == 200  # nobody else is signed out


def test_deactivating_and_reactivating_revives_no_session_and_no_api_token(
    app: Flask, db: Database
) -> None:
    browser = Staff(app).client(COORDINATOR)
    copy = _copy_of(browser, app)
    token, _record = create_api_token(db, COORDINATOR)
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    assert api.get("/api/submissions/" + "0" * 32, headers=bearer).status_code == 404

    change_user_active(db, COORDINATOR, False)
    change_user_active(db, COORDINATOR, True)

    assert browser.get("/inbox").status_code == 302
    assert copy.get("/inbox").status_code == 302
    assert api.get("/api/submissions/" + "0" * 32, headers=bearer).status_code == 401
    assert Staff(app).client(COORDINATOR).get("/inbox").status_code == 200  # the user may


def test_losing_a_role_ends_the_sessions_gaining_one_does_not(app: Flask, db: Database) -> None:
    browser = Staff(app).client(COORDINATOR)
    set_user_roles(db, COORDINATOR, ["coordinator", "treasurer"])
    assert browser.get("/inbox").status_code == 200
    set_user_roles(db, COORDINATOR, ["treasurer"])
    assert browser.get("/inbox").status_code == 302  # not a 403 from the old session


def test_a_new_password_ends_every_session(app: Flask, db: Database) -> None:
    browser = Staff(app).client(COORDINATOR)
    copy = _copy_of(browser, app)
    set_password(db, COORDINATOR, "a different long password")
    assert browser.get("/inbox").status_code == 302
    assert copy.get("/inbox").status_code == 302


class Clock:
    """A clock the test moves forward by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(app: Flask) -> Iterator[Clock]:
    """The app's database, on the same file, with a clock the test controls."""
    moving = Clock()
    database = Database(app.config["DATABASE_URL"], clock=moving)
    app.extensions[EXTENSION_KEY] = database  # before the app's first request
    yield moving
    database.dispose()


def test_a_sign_in_lasts_session_hours_whatever_the_user_does(app: Flask, clock: Clock) -> None:
    assert app.config["SESSION_HOURS"] == 12
    browser = Staff(app).client(COORDINATOR)
    for _ in range(11):  # busy all day long: still only the twelve hours of the sign-in
        clock.now += timedelta(hours=1)
        assert browser.get("/inbox").status_code == 200
    clock.now += timedelta(minutes=59, seconds=59)
    assert browser.get("/inbox").status_code == 200
    clock.now += timedelta(seconds=1)
    assert browser.get("/inbox").status_code == 302
    assert Staff(app).client(COORDINATOR).get("/inbox").status_code == 200


def test_session_hours_are_configurable(app: Flask, clock: Clock) -> None:
    app.config["SESSION_HOURS"] = 0.5
    browser = Staff(app).client(ADMIN)
    clock.now += timedelta(minutes=29)
    assert browser.get("/admin/users").status_code == 200
    clock.now += timedelta(minutes=1)
    assert browser.get("/admin/users").status_code == 302


def test_a_remember_me_cookie_lasts_no_longer_than_a_sign_in(app: Flask) -> None:
    assert app.config["REMEMBER_COOKIE_DURATION"] == timedelta(hours=12)
