"""Sign-in: sessions, generic failure, throttling, next redirects, logout, roles, cookies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from engine.services import Database, set_password, set_user_active
from support.coordinator import (
    ADMIN,
    COORDINATOR,
    PASSWORD,
    TREASURER,
    Staff,
)
from support.signin import csrf_field, login
from web import create_app
from web.auth import safe_next
from web.db import get_db

GENERIC_FAILURE_DE = "E-Mail oder Passwort falsch"
GENERIC_FAILURE_EN = "Wrong email or password"


def _failure_shown(page: str) -> bool:
    return GENERIC_FAILURE_DE in page or GENERIC_FAILURE_EN in page


def test_anonymous_inbox_redirects_to_login_and_back(app: Flask) -> None:
    client = app.test_client()
    response = client.get("/inbox?state=reviewed")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    from urllib.parse import parse_qs, urlsplit
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["next"] == ["/inbox?state=reviewed"]
    back = login(client, COORDINATOR, PASSWORD, next_url="/inbox?state=reviewed")
    assert back.status_code == 302
    assert back.headers["Location"] == "/inbox?state=reviewed"
    assert client.get("/inbox").status_code == 200


def test_login_without_next_goes_to_the_inbox(app: Flask) -> None:
    response = login(app.test_client(), COORDINATOR, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox"


@pytest.mark.parametrize("target", [
    "https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
    "http:/evil.example", "/ok\r\nSet-Cookie: x=1", "inbox",
])
def test_next_to_another_site_is_ignored(app: Flask, target: str) -> None:
    assert safe_next(target) is None
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    response = client.post("/login", data={"email": COORDINATOR, "password": PASSWORD,
                                           "next": target, **csrf_field(page)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/inbox"


def test_local_next_paths_are_kept() -> None:
    assert safe_next("/inbox/abc?x=1") == "/inbox/abc?x=1"
    assert safe_next("/") == "/"


@pytest.mark.parametrize("email,password", [
    (COORDINATOR, "wrong password!"),
    ("nobody@example.org", PASSWORD),
    ("not an email", PASSWORD),
])
def test_failed_login_says_only_email_or_password_wrong(
    app: Flask, email: str, password: str
) -> None:
    client = app.test_client()
    response = login(client, email, password)
    assert response.status_code == 200  # the form again, with the message
    page = response.get_data(as_text=True)
    assert _failure_shown(page)
    assert "not found" not in page.lower() and "unbekannt" not in page.lower()
    assert client.get("/inbox").status_code == 302  # still anonymous


def test_failure_message_is_german_by_default(app: Flask) -> None:
    client = app.test_client()
    page = login(client, COORDINATOR, "wrong password!").get_data(as_text=True)
    assert GENERIC_FAILURE_DE in page


def test_inactive_user_is_refused_and_loses_the_session(app: Flask, db: Database) -> None:
    signed_in = Staff(app).client(COORDINATOR)
    assert signed_in.get("/inbox").status_code == 200
    set_user_active(db, COORDINATOR, False)
    assert signed_in.get("/inbox").status_code == 302  # session no longer honoured
    response = login(app.test_client(), COORDINATOR, PASSWORD)
    assert response.status_code == 200
    assert _failure_shown(response.get_data(as_text=True))


def test_password_change_ends_other_sessions(app: Flask, db: Database) -> None:
    signed_in = Staff(app).client(COORDINATOR)
    set_password(db, COORDINATOR, "another long password")
    assert signed_in.get("/inbox").status_code == 302
    assert login(app.test_client(), COORDINATOR, "another long password").status_code == 302


def test_five_failures_per_ip_and_email_are_throttled(app: Flask) -> None:
    client = app.test_client()
    for _ in range(5):
        assert login(client, COORDINATOR, "wrong password!").status_code == 200
    blocked = login(client, COORDINATOR, PASSWORD)  # even the right password waits now
    assert blocked.status_code == 429
    assert "Retry-After" in blocked.headers
    assert 'name="email"' in blocked.get_data(as_text=True)  # the form, not a bare error
    # another account from the same address is not locked out by these failures
    assert login(client, ADMIN, PASSWORD).status_code == 302


def test_behind_a_trusted_proxy_one_client_cannot_lock_out_the_others(
    clean_env: None, app_config: dict[str, Any]
) -> None:
    app = create_app({**app_config, "TRUSTED_PROXIES": 1, "RATELIMIT_LOGIN_IP": "3 per minute"})
    attacker, colleague = app.test_client(), app.test_client()
    attacker.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.66"
    colleague.environ_base["HTTP_X_FORWARDED_FOR"] = "198.51.100.10"
    try:
        for email in ("a@example.org", "b@example.org", "c@example.org"):
            assert login(attacker, email, "wrong password!").status_code == 200
        assert login(attacker, COORDINATOR, PASSWORD).status_code == 429
        # Every request reaches the app from the proxy's address; the colleague's own counts.
        assert login(colleague, COORDINATOR, PASSWORD).status_code == 302
    finally:
        get_db(app).dispose()


def test_successful_logins_do_not_count_against_the_limit(app: Flask) -> None:
    for _ in range(8):
        client = app.test_client()
        assert login(client, COORDINATOR, PASSWORD).status_code == 302


def test_login_post_without_csrf_token_is_refused(app: Flask) -> None:
    client = app.test_client()
    response = client.post("/login", data={"email": COORDINATOR, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/inbox").status_code == 302


def test_logout_needs_post_with_csrf(app: Flask) -> None:
    client = Staff(app).client(COORDINATOR)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400  # no token: still signed in
    assert client.get("/inbox").status_code == 200
    page = client.get("/inbox").get_data(as_text=True)
    response = client.post("/logout", data=csrf_field(page))
    assert response.status_code == 302
    assert client.get("/inbox").status_code == 302


def test_remember_cookie_refreshed_on_each_request_when_configured(app: Flask) -> None:
    client = Staff(app).client(COORDINATOR)
    assert not [c for c in client.get("/inbox").headers.getlist("Set-Cookie")
                if c.startswith("remember_token=")], "not refreshed by default"
    app.config["REMEMBER_COOKIE_REFRESH_EACH_REQUEST"] = True

    response = client.get("/inbox")

    assert [c for c in response.headers.getlist("Set-Cookie")
            if c.startswith("remember_token=")], "Flask-Login's hook still runs when asked to"
    assert response.headers["Vary"] == "Cookie"


def test_signed_in_user_without_the_role_gets_403(app: Flask) -> None:
    client = Staff(app).client(TREASURER)
    assert client.get("/inbox").status_code == 403


def test_admin_passes_every_role_check(app: Flask) -> None:
    assert Staff(app).client(ADMIN).get("/inbox").status_code == 200


def test_anonymous_json_client_gets_401_not_a_redirect(app: Flask) -> None:
    response = app.test_client().get("/inbox", headers={"Accept": "application/json"})
    assert response.status_code == 401


def test_session_cookie_is_httponly_lax_and_strongly_protected(app: Flask) -> None:
    client = app.test_client()
    response = login(client, COORDINATOR, PASSWORD)
    cookie = next(v for k, v in response.headers.items()
                  if k == "Set-Cookie" and v.startswith("session="))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # development over plain http
    from web.auth import login_manager
    assert login_manager.session_protection == "strong"
    # a stolen cookie replayed from another client (other user agent) is not honoured
    assert client.get("/inbox", headers={"User-Agent": "other-browser/1"}).status_code == 302


def test_production_session_cookie_is_secure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORMFLOW_ENV", "production")
    monkeypatch.setenv("FORMFLOW_SECRET_KEY", "x" * 64)
    monkeypatch.setenv("FORMFLOW_IMPRINT_URL", "https://verein.example/impressum")
    monkeypatch.setenv("FORMFLOW_PRIVACY_URL", "https://verein.example/datenschutz")
    prod = create_app({"INSTANCE_PATH": str(tmp_path / "i"),
                       "DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}"})
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert prod.config["SESSION_COOKIE_HTTPONLY"] is True
    assert prod.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_database_outage_is_a_503_page_not_a_silent_sign_out(
    app: Flask, db: Database, tmp_path: Path
) -> None:
    client = Staff(app).client(COORDINATOR)
    db.dispose()
    (tmp_path / "data" / "formflow.sqlite3").rename(tmp_path / "moved.db")  # the schema is gone
    response = client.get("/inbox")
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert "Traceback" not in response.get_data(as_text=True)
