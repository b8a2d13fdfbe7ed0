"""Who a single sign-on user is here (``engine.services.single_sign_on``) and the sign-in
settings (``web.account_settings``), without a provider: the provider's part is
tests/browser/test_single_sign_on.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.services import Database, get_user, set_user_active
from engine.services.single_sign_on import SignInRefused, provider_user
from support.admin import COORDINATOR
from web import create_app
from web.config import ConfigError

ISSUER = "https://id.example.org/realms/verein"


def sign_in(db: Database, subject: str, email: str | None, roles: list[str],
            verified: bool = True) -> Any:
    return provider_user(db, issuer=ISSUER, subject=subject, email=email,
                         email_verified=verified, roles=roles)


def test_a_new_user_is_created_without_a_password(db: Database) -> None:
    user = sign_in(db, "s-1", "New@Example.org", ["coordinator"])
    assert user.email == "new@example.org" and user.roles == ("coordinator",)
    assert user.password_hash is None and user.oidc_subject == f"{ISSUER} s-1"


def test_the_subject_not_the_address_identifies_the_user(db: Database) -> None:
    first = sign_in(db, "s-1", "new@example.org", ["coordinator"])
    again = sign_in(db, "s-1", "renamed@example.org", ["coordinator"])
    assert again.id == first.id and again.email == "new@example.org"


def test_the_provider_decides_the_roles_and_fewer_roles_end_sessions(
        app: Any, db: Database) -> None:
    linked = sign_in(db, "s-c", COORDINATOR, ["coordinator", "admin"])
    assert linked.roles == ("admin", "coordinator")
    generation = linked.session_generation
    fewer = sign_in(db, "s-c", COORDINATOR, ["coordinator"])
    assert fewer.roles == ("coordinator",) and fewer.session_generation == generation + 1


@pytest.mark.parametrize(("email", "verified", "roles", "reason"), [
    (COORDINATOR, False, ["coordinator"], "unverified_email"),
    ("someone@example.org", True, [], "no_role"),
    (None, True, ["coordinator"], "no_email"),
])
def test_refusals_name_their_reason(db: Database, email: str | None, verified: bool,
                                    roles: list[str], reason: str) -> None:
    with pytest.raises(SignInRefused) as refused:
        sign_in(db, "s-x", email, roles, verified)
    assert refused.value.reason == reason
    assert get_user(db, COORDINATOR).oidc_subject is None


def test_a_second_identity_cannot_take_a_linked_account(db: Database) -> None:
    sign_in(db, "s-1", COORDINATOR, ["coordinator"])
    with pytest.raises(SignInRefused):
        sign_in(db, "s-2", COORDINATOR, ["coordinator"])


def test_a_deactivated_user_stays_out(db: Database) -> None:
    sign_in(db, "s-1", COORDINATOR, ["coordinator"])
    set_user_active(db, COORDINATOR, False)
    with pytest.raises(SignInRefused) as refused:
        sign_in(db, "s-1", COORDINATOR, ["coordinator"])
    assert refused.value.reason == "inactive"



@pytest.mark.parametrize(("settings", "message"), [
    ({"REQUIRE_2FA": "sometimes"}, "FORMFLOW_REQUIRE_2FA"),
    ({"LOCAL_LOGIN": "maybe"}, "FORMFLOW_LOCAL_LOGIN"),
    ({"LOCAL_LOGIN": "false"}, "needs single sign-on"),
    ({"OIDC_ISSUER": ISSUER}, "needed together"),
    ({"OIDC_ISSUER": "id.example.org", "OIDC_CLIENT_ID": "f", "OIDC_CLIENT_SECRET": "s"},
     "provider's URL"),
    ({"OIDC_ROLE_MAP": "admins"}, "group=role"),
    ({"RATELIMIT_PASSWORD_RESET": "often"}, "FORMFLOW_RATELIMIT_PASSWORD_RESET"),
])
def test_unusable_sign_in_settings_stop_the_app(clean_env: None, tmp_path: Path,
                                                settings: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path),
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}", **settings})


def test_settings_come_from_the_environment(clean_env: None, tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORMFLOW_REQUIRE_2FA", "Admin")
    monkeypatch.setenv("FORMFLOW_OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("FORMFLOW_OIDC_CLIENT_ID", "formflow")
    monkeypatch.setenv("FORMFLOW_OIDC_CLIENT_SECRET", "secret")
    monkeypatch.setenv("FORMFLOW_OIDC_ROLE_MAP", "formflow-admins=admin, team=coordinator")
    monkeypatch.setenv("FORMFLOW_LOCAL_LOGIN", "false")
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}"})
    assert app.config["REQUIRE_2FA"] == "admin"
    assert app.config["OIDC_ROLE_MAP"] == {"formflow-admins": "admin", "team": "coordinator"}
    assert app.config["LOCAL_LOGIN"] is False and app.config["OIDC_NAME"] == "id.example.org"
    assert app.config["OIDC_ROLES_CLAIM"] == "groups"
    page = app.test_client().get("/login").get_data(as_text=True)
    assert "Mit id.example.org anmelden" in page and 'id="password"' not in page
