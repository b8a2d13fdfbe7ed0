"""Passwords without a developer (issue 16): change one's own, "Passwort vergessen?",
invitations, reset links sent by an administrator — rules, expiry, single use, no
enumeration by answer or timing, rate limits, sessions ended."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, update
from werkzeug.test import TestResponse

from engine.services import Database, authenticate_user, create_user, get_user
from engine.services.account_links import check_link, issue_link, set_password_with_link
from engine.services.users import WeakPassword, check_password
from engine.storage.tables import AccountLinkRow
from support.account_mail import link_in, mails_to
from support.admin import ADMIN, COORDINATOR, PASSWORD, Browser
from support.signin import csrf_field, login

NEW_PASSWORD = "a new and long passphrase"


def forgot(client: FlaskClient, email: str, ip: str = "127.0.0.1") -> TestResponse:
    """Ask for a reset link as a browser would; the response is closed, which is when the
    app sends the mail (after the answer)."""
    page = client.get("/password/forgot").get_data(as_text=True)
    response = client.post("/password/forgot", data={"email": email, **csrf_field(page)},
                           environ_base={"REMOTE_ADDR": ip})
    response.close()
    return response


def set_with_link(client: FlaskClient, link: str, password: str,
                  repeat: str | None = None) -> TestResponse:
    path = urlsplit(link).path
    page = client.get(path)
    if page.status_code != 200:
        return page
    return client.post(path, data={"new_password": password,
                                   "repeat_password": password if repeat is None else repeat,
                                   **csrf_field(page.get_data(as_text=True))})


def change(browser: Browser, current: str, new: str, repeat: str | None = None
           ) -> TestResponse:
    return browser.post_form("/account/password", {
        "current_password": current, "new_password": new,
        "repeat_password": new if repeat is None else repeat})


# -- the rules -----------------------------------------------------------------------------


@pytest.mark.parametrize(("password", "rule"), [
    ("short", "too_short"), ("eleven char", "too_short"),
    ("password1234", "common"), ("Password1234", "common"), ("MegaParol12345", "common"),
])
def test_the_rules_name_what_failed(password: str, rule: str) -> None:
    with pytest.raises(WeakPassword) as refused:
        check_password(password)
    assert refused.value.rule == rule


def test_a_long_uncommon_password_passes() -> None:
    check_password("correct horse battery staple")


# -- changing one's own password -----------------------------------------------------------


def test_changing_the_password_names_the_failed_rule(coordinator: Browser) -> None:
    cases = [
        (PASSWORD, "short", None, "mindestens 12 Zeichen"),
        (PASSWORD, "password1234", None, "zu verbreitet"),
        ("not my password", NEW_PASSWORD, None, "aktuelle Passwort ist falsch"),
        (PASSWORD, NEW_PASSWORD, "something else entirely", "stimmen nicht überein"),
    ]
    for current, new, repeat, message in cases:
        response = change(coordinator, current, new, repeat)
        assert response.status_code == 422, message
        assert message in response.get_data(as_text=True)
    english = coordinator.client.post(
        "/account/password?lang=en",
        data={"_csrf_token": coordinator.token, "current_password": PASSWORD,
              "new_password": "password1234", "repeat_password": "password1234"})
    assert "too common" in english.get_data(as_text=True)


def test_a_new_password_ends_the_other_sessions_but_not_this_one(
        app: Flask, db: Database) -> None:
    here = Browser(app, COORDINATOR)
    elsewhere = Browser(app, COORDINATOR)
    response = change(here, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 302
    assert "Ihr Passwort wurde geändert" in here.get(response.headers["Location"]).get_data(
        as_text=True)
    assert here.get("/inbox").status_code == 200
    assert elsewhere.get("/inbox").status_code == 302  # signed out
    assert authenticate_user(db, COORDINATOR, PASSWORD) is None
    assert authenticate_user(db, COORDINATOR, NEW_PASSWORD) is not None


# -- a forgotten password ------------------------------------------------------------------


def test_the_answer_is_the_same_whether_the_address_exists(app: Flask) -> None:
    known = forgot(app.test_client(), COORDINATOR)
    unknown = forgot(app.test_client(), "nobody@example.org")
    assert known.status_code == unknown.status_code == 200

    def main(response: TestResponse) -> str:
        page = response.get_data(as_text=True)
        return page[page.index("<main"):page.index("</main>")]

    assert main(known) == main(unknown)
    assert len(mails_to(app.instance_path, COORDINATOR)) == 1
    assert mails_to(app.instance_path, "nobody@example.org") == []


def test_the_answer_does_no_work_that_depends_on_the_address(
        app: Flask, database_url: str) -> None:
    """Looking the address up, making the link and mailing it happen after the answer is
    complete, so the answer's time cannot tell whether the address exists: at the moment the
    answer is there, nothing of the known address's link or mail exists yet; after it has
    been closed (sent), both do. The times of both kinds of answer agree as well."""
    app.config["RATELIMIT_PASSWORD_RESET"] = "1000 per hour"
    app.config["RATELIMIT_PASSWORD_RESET_IP"] = "1000 per hour"
    client = app.test_client()
    token = csrf_field(client.get("/password/forgot").get_data(as_text=True))
    engine = create_engine(database_url)

    def links() -> int:
        with engine.connect() as connection:
            return len(list(connection.execute(AccountLinkRow.__table__.select())))

    def answer_time(email: str) -> float:
        links_before = links()
        mails_before = len(mails_to(app.instance_path, email))
        started = time.perf_counter()
        response = client.post("/password/forgot", data={"email": email, **token})
        response.get_data()
        elapsed = time.perf_counter() - started  # the answer is complete here ...
        assert links() == links_before
        assert len(mails_to(app.instance_path, email)) == mails_before
        response.close()  # ... and only now does the app look the address up and mail
        return elapsed

    known, unknown = [], []
    for _ in range(10):
        known.append(answer_time(COORDINATOR))
        unknown.append(answer_time("nobody@example.org"))
    assert links() == 10
    engine.dispose()
    assert len(mails_to(app.instance_path, COORDINATOR)) == 10
    assert abs(statistics.median(known) - statistics.median(unknown)) < 0.05, (
        known, unknown)


def test_a_reset_link_sets_a_password_once_and_ends_every_session(
        app: Flask, db: Database) -> None:
    signed_in = Browser(app, COORDINATOR)
    forgot(app.test_client(), COORDINATOR)
    (mail,) = mails_to(app.instance_path, COORDINATOR)
    assert "60 Minuten" not in str(mail["Subject"])
    link = link_in(mail)
    visitor = app.test_client()
    response = set_with_link(visitor, link, "short")
    assert response.status_code == 422
    assert "mindestens 12 Zeichen" in response.get_data(as_text=True)
    response = set_with_link(visitor, link, NEW_PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert signed_in.get("/inbox").status_code == 302  # every session has ended
    assert authenticate_user(db, COORDINATOR, NEW_PASSWORD) is not None
    assert login(app.test_client(), COORDINATOR, NEW_PASSWORD).status_code == 302
    again = set_with_link(app.test_client(), link, "yet another long password")
    assert again.status_code == 404
    assert "nicht mehr gültig" in again.get_data(as_text=True)
    assert authenticate_user(db, COORDINATOR, NEW_PASSWORD) is not None


def _expire_links(database_url: str) -> None:
    """Move every link's end a minute into the past (as if an hour had gone by)."""
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(update(AccountLinkRow).values(
            expires_at=datetime.now(UTC) - timedelta(minutes=1)))
    engine.dispose()


def test_a_reset_link_expires_after_60_minutes(app: Flask, db: Database,
                                               database_url: str) -> None:
    issued = issue_link(db, COORDINATOR, "reset")
    assert issued.record.expires_at - issued.record.created_at == timedelta(minutes=60)
    check_link(db, issued.token)  # valid now
    _expire_links(database_url)
    with pytest.raises(Exception, match="not valid"):
        set_password_with_link(db, issued.token, NEW_PASSWORD)
    assert authenticate_user(db, COORDINATOR, PASSWORD) is not None


def test_a_newer_link_retires_the_older_one(db: Database) -> None:
    first = issue_link(db, COORDINATOR, "reset")
    second = issue_link(db, COORDINATOR, "reset")
    with pytest.raises(Exception, match="not valid"):
        check_link(db, first.token)
    check_link(db, second.token)


def test_links_are_stored_only_as_digests(db: Database, database_url: str) -> None:
    issued = issue_link(db, COORDINATOR, "reset")
    engine = create_engine(database_url)
    with engine.connect() as connection:
        stored = [row.token_hash for row in connection.execute(
            AccountLinkRow.__table__.select())]
    engine.dispose()
    assert issued.token not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_a_deactivated_user_gets_no_mail(app: Flask, db: Database) -> None:
    from engine.services import set_user_active

    set_user_active(db, COORDINATOR, False)
    assert forgot(app.test_client(), COORDINATOR).status_code == 200
    assert mails_to(app.instance_path, COORDINATOR) == []


def test_reset_requests_are_limited_per_address_and_per_client(app: Flask) -> None:
    for number in range(3):
        assert forgot(app.test_client(), COORDINATOR, ip=f"10.0.0.{number}").status_code == 200
    # a fourth request for the same address, from yet another client: refused
    refused = forgot(app.test_client(), COORDINATOR, ip="10.0.0.99")
    assert refused.status_code == 429
    assert "Zu viele Anfragen" in refused.get_data(as_text=True)
    assert len(mails_to(app.instance_path, COORDINATOR)) == 3
    # one client asking for many addresses (known or not: the limit tells nothing)
    client = app.test_client()
    answers = [forgot(client, f"person{n}@example.org", ip="10.0.1.1").status_code
               for n in range(11)]
    assert answers == [200] * 10 + [429]


def test_a_malformed_address_is_a_clear_422(app: Flask) -> None:
    response = forgot(app.test_client(), "not an address")
    assert response.status_code == 422
    assert "gültige E-Mail-Adresse" in response.get_data(as_text=True)


def test_an_unknown_link_is_a_friendly_404(app: Flask) -> None:
    response = app.test_client().get("/password/set/not-a-link")
    assert response.status_code == 404
    assert "nicht mehr gültig" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"


# -- invitations and links sent by an administrator ------------------------------------------


def test_an_invitation_lets_the_new_user_choose_a_password(
        app: Flask, db: Database, admin: Browser) -> None:
    response = admin.post_form("/admin/users", {"email": "new@example.org",
                                                "roles": ["coordinator"]})
    assert response.status_code == 302
    assert "eingeladen" in admin.get("/admin/users").get_data(as_text=True)
    assert get_user(db, "new@example.org").password_hash is None
    (mail,) = mails_to(app.instance_path, "new@example.org")
    assert "Einladung" in str(mail["Subject"])
    link = link_in(mail)
    record = check_link(db, link.rsplit("/", 1)[1])[0]
    assert record.purpose == "invite"
    assert record.expires_at - record.created_at == timedelta(days=7)
    assert set_with_link(app.test_client(), link, NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), "new@example.org", NEW_PASSWORD).status_code == 302


def test_an_invitation_can_be_sent_again_and_only_the_newest_works(
        app: Flask, db: Database, admin: Browser) -> None:
    admin.post_form("/admin/users", {"email": "new@example.org", "roles": ["coordinator"]})
    user = get_user(db, "new@example.org")
    page = admin.get("/admin/users").get_data(as_text=True)
    assert f'id="send-link-{user.id}">Einladung erneut senden<' in page
    assert admin.post_form(f"/admin/users/{user.id}/link").status_code == 302
    first, second = mails_to(app.instance_path, "new@example.org")
    assert set_with_link(app.test_client(), link_in(first), NEW_PASSWORD).status_code == 404
    assert set_with_link(app.test_client(), link_in(second), NEW_PASSWORD).status_code == 302


def test_an_administrator_sends_a_reset_link_without_seeing_a_password(
        app: Flask, db: Database, admin: Browser) -> None:
    user = get_user(db, COORDINATOR)
    response = admin.post_form(f"/admin/users/{user.id}/link")
    assert response.status_code == 302
    page = admin.get("/admin/users").get_data(as_text=True)
    (mail,) = mails_to(app.instance_path, COORDINATOR)
    link = link_in(mail)
    assert link not in page and link.rsplit("/", 1)[1] not in page
    assert "type=\"password\"" not in page  # nobody types a password for someone else
    assert set_with_link(app.test_client(), link, NEW_PASSWORD).status_code == 302


def test_the_set_password_page_keeps_its_secret_out_of_logs_and_referrers(
        db: Database, app: Flask) -> None:
    from web.access_log import redact

    issued = issue_link(db, COORDINATOR, "reset")
    response = app.test_client().get(f"/password/set/{issued.token}")
    assert response.status_code == 200
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert issued.token not in redact(f'"GET /password/set/{issued.token} HTTP/1.1" 200')


def test_a_user_created_with_a_password_still_signs_in(app: Flask, db: Database) -> None:
    create_user(db, "api@example.org", ["coordinator"], "a password long enough")
    assert login(app.test_client(), "api@example.org", "a password long enough"
                 ).status_code == 302
    assert ADMIN  # the fixture's administrator is untouched


# -- hostile input: a clear 4xx, nothing stored ---------------------------------------------


def test_hostile_input_is_refused_clearly(app: Flask, db: Database,
                                          coordinator: Browser) -> None:
    client = app.test_client()
    page = client.get("/password/forgot").get_data(as_text=True)
    huge = client.post("/password/forgot", data={"email": "a" * 10_000 + "@example.org",
                                                 **csrf_field(page)})
    assert huge.status_code == 422
    assert client.get("/password/set/" + "x" * 5000).status_code == 404
    no_pending = client.post("/login/code", data={"code": "123456", **csrf_field(page)})
    assert no_pending.status_code == 302 and no_pending.headers["Location"].endswith("/login")
    coordinator.get("/account/two-factor")
    long_code = coordinator.post_form("/account/two-factor", {"code": "9" * 5000})
    assert long_code.status_code == 422
    too_long = change(coordinator, PASSWORD, "x" * 2000)
    assert too_long.status_code == 422
    assert "höchstens 1024 Zeichen" in too_long.get_data(as_text=True)
    assert authenticate_user(db, COORDINATOR, PASSWORD) is not None
    assert not get_user(db, COORDINATOR).has_second_factor
    without_token = client.post("/password/forgot", data={"email": COORDINATOR})
    assert without_token.status_code == 400
