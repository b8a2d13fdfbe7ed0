"""Single sign-on against a real OpenID provider (``oidc-provider`` run with Node, issue 16):
discovery, sign-in in Chromium, role mapping, a refused user, the first link of an existing
account only through a verified address, logout at the provider too, local passwords off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from engine.services import create_user, get_user, set_password
from support.browser import LiveServer
from support.notifications import free_port
from support.oidc_provider import Provider, start_provider
from support.signin import csrf_field

PROVIDER_PORT = free_port()
CLIENT_ID = "formflow"
CLIENT_SECRET = "test-client-secret-only"
ACCOUNTS = {
    "sub-admin": {"email": "boss@example.org", "email_verified": True,
                  "groups": ["formflow-admins", "staff"]},
    "sub-team": {"email": "linked@example.org", "email_verified": True,
                 "groups": ["formflow-team"]},
    "sub-outsider": {"email": "outsider@example.org", "email_verified": True,
                     "groups": ["finance"]},
    "sub-claimer": {"email": "local@example.org", "email_verified": False,
                    "groups": ["formflow-team"]},
}
LOCAL_PASSWORD = "a long local password"


@pytest.fixture(scope="module")
def live_server_settings() -> dict[str, Any]:
    return {
        "OIDC_ISSUER": f"http://127.0.0.1:{PROVIDER_PORT}",
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "OIDC_SCOPES": "openid email groups",
        "OIDC_ROLE_MAP": "formflow-admins=admin,formflow-team=coordinator",
        "OIDC_NAME": "Testanbieter",
        "LOCAL_LOGIN": False,
    }


@pytest.fixture(scope="module")
def provider(live_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[Provider]:
    live_server.app.config["BASE_URL"] = live_server.url
    log = Path(tmp_path_factory.mktemp("oidc")) / "provider.log"
    started = start_provider(
        port=PROVIDER_PORT, client_id=CLIENT_ID, client_secret=CLIENT_SECRET,
        redirect_uri=f"{live_server.url}/login/sso/callback",
        post_logout_uri=f"{live_server.url}/login", accounts=ACCOUNTS, log_path=log)
    create_user(live_server.db, "linked@example.org", ["coordinator"], LOCAL_PASSWORD)
    create_user(live_server.db, "local@example.org", ["admin"], LOCAL_PASSWORD)
    try:
        yield started
    finally:
        started.stop()


def sign_in_at_provider(page: Any, subject: str) -> None:
    page.goto("/login")
    page.click("#oidc-login")
    page.wait_for_url(lambda url: f":{PROVIDER_PORT}/" in url)
    page.fill("#login", subject)
    page.click("#provider-submit")
    page.wait_for_url(lambda url: f":{PROVIDER_PORT}/" not in url)


def test_discovery_names_the_endpoints_the_app_uses(provider: Provider) -> None:
    metadata = requests.get(f"{provider.issuer}/.well-known/openid-configuration",
                            timeout=10).json()
    assert metadata["issuer"] == provider.issuer
    assert "S256" in metadata["code_challenge_methods_supported"]
    assert metadata["end_session_endpoint"].startswith(provider.issuer)


def test_the_login_page_offers_the_provider_and_no_passwords(page: Any, provider: Provider
                                                             ) -> None:
    page.goto("/login")
    assert page.inner_text("#oidc-login") == "Mit Testanbieter anmelden"
    assert page.locator("#password").count() == 0
    assert page.locator("#forgot-link").count() == 0


def test_an_administrator_signs_in_with_mapped_roles(page: Any, live_server: LiveServer,
                                                      provider: Provider) -> None:
    sign_in_at_provider(page, "sub-admin")
    assert page.url.endswith("/inbox")
    assert page.locator("#nav-users").is_visible()
    user = get_user(live_server.db, "boss@example.org")
    assert user.roles == ("admin",) and user.password_hash is None
    assert user.oidc_subject == f"{provider.issuer} sub-admin"


def test_an_existing_account_is_linked_through_a_verified_address(
        page: Any, live_server: LiveServer, provider: Provider) -> None:
    sign_in_at_provider(page, "sub-team")
    assert page.url.endswith("/inbox")
    user = get_user(live_server.db, "linked@example.org")
    assert user.oidc_subject == f"{provider.issuer} sub-team"
    assert user.roles == ("coordinator",)
    assert page.locator("#nav-users").count() == 0


def test_a_user_without_a_mapped_role_is_refused(page: Any, live_server: LiveServer,
                                                 provider: Provider, watch: Any) -> None:
    watch.expect_status("/login/sso/callback", 403)
    sign_in_at_provider(page, "sub-outsider")
    assert page.locator("#sso-refused").get_attribute("data-reason") == "no_role"
    assert "keine Rolle" in page.inner_text("#sso-refused-message")
    page.goto("/inbox")
    assert "/login" in page.url  # not signed in
    with pytest.raises(Exception, match="no user"):
        get_user(live_server.db, "outsider@example.org")


def test_an_unverified_address_does_not_take_over_a_local_account(
        page: Any, live_server: LiveServer, provider: Provider, watch: Any) -> None:
    watch.expect_status("/login/sso/callback", 403)
    sign_in_at_provider(page, "sub-claimer")
    assert page.locator("#sso-refused").get_attribute("data-reason") == "unverified_email"
    assert get_user(live_server.db, "local@example.org").oidc_subject is None


def test_signing_out_ends_the_session_here_and_at_the_provider(
        page: Any, provider: Provider) -> None:
    sign_in_at_provider(page, "sub-admin")
    page.click("#logout")
    page.wait_for_url(lambda url: f":{PROVIDER_PORT}/" in url)
    page.click("#sign-out")
    page.wait_for_url("**/login")
    page.goto("/inbox")
    assert "/login" in page.url
    # signing in again asks the provider for the account again (its session ended too)
    page.goto("/login")
    page.click("#oidc-login")
    page.wait_for_url(lambda url: f":{PROVIDER_PORT}/" in url)
    assert page.locator("#login").is_visible()


def test_local_passwords_are_refused_when_switched_off(live_server: LiveServer,
                                                       provider: Provider) -> None:
    client = live_server.app.test_client()
    # the login page has no password form now: a CSRF token from an applicant's page
    token = csrf_field(client.get("/f/membership/step/person").get_data(as_text=True))
    response = client.post("/login", data={"email": "local@example.org",
                                           "password": LOCAL_PASSWORD, **token})
    assert response.status_code == 200
    assert "Single Sign-on" in response.get_data(as_text=True)
    # break-glass: `formflow users set-password` marks the user local
    set_password(live_server.db, "local@example.org", LOCAL_PASSWORD, local=True)
    response = client.post("/login", data={"email": "local@example.org",
                                           "password": LOCAL_PASSWORD, **token})
    assert response.status_code == 302
    assert client.get("/password/forgot").status_code == 404
