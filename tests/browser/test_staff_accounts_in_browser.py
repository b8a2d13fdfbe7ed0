"""Staff accounts in Chromium (issue 16): changing a password, a forgotten password whose mail
the SMTP sink catches, an invitation, the second factor set up and used with a code computed
here, and a recovery code."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest

from engine.services import authenticate_user, create_user, get_user
from support.account_mail import link_in
from support.browser import LiveServer, Watch
from support.browser_staff import PASSWORD, sign_in
from support.notifications import MailSink, wait_for

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture(scope="module")
def sink(live_server: LiveServer) -> Iterator[MailSink]:
    """An SMTP server the app sends its mails to; links in them point at the live server."""
    server = MailSink()
    server.start()
    config = live_server.app.config
    config["SMTP_URL"] = server.url
    config["BASE_URL"] = live_server.url
    try:
        yield server
    finally:
        config["SMTP_URL"] = None
        server.stop()


def _mail_link(sink: MailSink, address: str, count: int = 1) -> str:
    wait_for(lambda: len(sink.to(address)) >= count, timeout=10, what=f"a mail to {address}")
    return urlsplit(link_in(sink.to(address)[count - 1])).path


def _sign_out(page: Any) -> None:
    page.click("#logout")
    page.wait_for_url("**/login")


def test_changing_the_password(page: Any, live_server: LiveServer, watch: Watch) -> None:
    watch.expect_status("/account/password", 422)  # the refused short password
    create_user(live_server.db, "changer@example.org", ["coordinator"], PASSWORD)
    sign_in(page, "changer@example.org")
    page.click("#nav-account")
    page.fill("#current-password", PASSWORD)
    page.fill("#new-password", "too short")
    page.fill("#repeat-password", "too short")
    page.click("#change-password")
    assert "mindestens 12 Zeichen" in page.inner_text("#password-error")
    page.fill("#current-password", PASSWORD)
    page.fill("#new-password", NEW_PASSWORD)
    page.fill("#repeat-password", NEW_PASSWORD)
    page.click("#change-password")
    assert "geändert" in page.inner_text("#password-changed")
    _sign_out(page)
    sign_in(page, "changer@example.org", NEW_PASSWORD)
    assert page.url.endswith("/inbox")
    watch.assert_clean()


def test_a_forgotten_password(page: Any, live_server: LiveServer, sink: MailSink,
                              watch: Watch) -> None:
    create_user(live_server.db, "forgetful@example.org", ["coordinator"], PASSWORD)
    page.goto("/login")
    page.click("#forgot-link")
    page.fill("#email", "forgetful@example.org")
    page.click("#forgot-submit")
    assert "Falls es zu dieser Adresse ein Konto gibt" in page.inner_text("#forgot-sent")
    page.goto(_mail_link(sink, "forgetful@example.org"))
    page.fill("#new-password", NEW_PASSWORD)
    page.fill("#repeat-password", NEW_PASSWORD)
    page.click("#set-password-submit")
    page.wait_for_url("**/login")
    assert "festgelegt" in page.inner_text("#messages")
    sign_in(page, "forgetful@example.org", NEW_PASSWORD)
    assert page.url.endswith("/inbox")
    assert authenticate_user(live_server.db, "forgetful@example.org", PASSWORD) is None
    watch.assert_clean()


def test_an_invitation(page: Any, chromium: Any, live_server: LiveServer, sink: MailSink,
                       watch: Watch) -> None:
    create_user(live_server.db, "inviter@example.org", ["admin"], PASSWORD)
    sign_in(page, "inviter@example.org")
    page.click("#nav-users")
    page.fill("#create-email", "invited@example.org")
    page.click("#create-submit")
    assert "eingeladen" in page.inner_text("#messages")
    assert get_user(live_server.db, "invited@example.org").password_hash is None
    _sign_out(page)
    page.goto(_mail_link(sink, "invited@example.org"))
    assert "invited@example.org" in page.inner_text("main")
    page.fill("#new-password", NEW_PASSWORD)
    page.fill("#repeat-password", NEW_PASSWORD)
    page.click("#set-password-submit")
    page.wait_for_url("**/login")
    sign_in(page, "invited@example.org", NEW_PASSWORD)
    assert page.url.endswith("/inbox")
    watch.assert_clean()


def _secret(page: Any) -> str:
    return page.inner_text("#totp-secret").replace(" ", "")


def test_second_factor_enrolment_sign_in_and_a_recovery_code(
        page: Any, live_server: LiveServer, watch: Watch) -> None:
    create_user(live_server.db, "careful@example.org", ["coordinator"], PASSWORD)
    sign_in(page, "careful@example.org")
    page.click("#nav-account")
    page.click("#enrol-link")
    assert page.locator(".totp-qr-box svg").is_visible()
    secret = _secret(page)
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("#enrol-submit")
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert len(codes) == 10
    page.click("#continue")
    assert "Übrige Wiederherstellungscodes: 10" in page.inner_text("#two-factor-on")
    _sign_out(page)

    # a code of the next 30-second step: not the one used to enrol, still accepted
    page.goto("/login")
    page.fill("#email", "careful@example.org")
    page.fill("#password", PASSWORD)
    page.click("form[action$='/login'] button[type=submit]")
    page.wait_for_url("**/login/code")
    page.fill("#code", pyotp.TOTP(secret).at(time.time() + 30))
    page.click("#code-submit")
    page.wait_for_url("**/inbox")
    _sign_out(page)

    # without the app: a recovery code
    page.goto("/login")
    page.fill("#email", "careful@example.org")
    page.fill("#password", PASSWORD)
    page.click("form[action$='/login'] button[type=submit]")
    page.wait_for_url("**/login/code")
    page.fill("#code", codes[0])
    page.click("#code-submit")
    page.wait_for_url("**/inbox")
    page.goto("/account")
    assert re.search(r"Wiederherstellungscodes: 9\b", page.inner_text("#two-factor-on"))
    watch.assert_clean()


def test_the_account_pages_have_no_serious_accessibility_problems(
        page: Any, live_server: LiveServer) -> None:
    from axe_playwright_python.sync_playwright import Axe

    create_user(live_server.db, "axe@example.org", ["coordinator"], PASSWORD)
    axe = Axe()
    blocking = []

    def check(name: str) -> None:
        for violation in axe.run(page).response["violations"]:
            if violation["impact"] in ("serious", "critical"):
                blocking.append(f"{name}: {violation['id']} ({violation['help']})")

    page.goto("/login")
    check("login")
    page.goto("/password/forgot")
    check("forgotten password")
    sign_in(page, "axe@example.org")
    page.goto("/account")
    check("account")
    page.goto("/account/two-factor")
    check("enrolment")
    page.goto("/admin/users")
    check("403")
    assert blocking == []
