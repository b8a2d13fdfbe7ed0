"""Users and API tokens through the administration pages (and only through the services)."""

from __future__ import annotations

import re

from flask import Flask

from engine.services import Database, authenticate_user, get_user, user_for_token
from engine.services.staff import tokens_of
from support.admin import ADMIN, COORDINATOR, PASSWORD, Browser


def user_id(db: Database, email: str) -> int:
    return get_user(db, email).id


def test_the_user_list_shows_everyone_with_roles_and_status(admin: Browser) -> None:
    page = admin.get("/admin/users").get_data(as_text=True)
    assert f'data-testid="user-{ADMIN}"' in page and f'data-testid="user-{COORDINATOR}"' in page
    assert 'data-roles="admin"' in page and 'data-roles="coordinator"' in page
    assert "treasurer" in page  # a role a published workflow uses is offered


def test_inviting_a_user_creates_them_without_a_password(admin: Browser, db: Database) -> None:
    response = admin.post_form("/admin/users", {
        "email": " New.Person@Example.org ", "roles": ["coordinator"],
        "other_roles": "treasurer"})
    assert response.status_code == 302
    user = get_user(db, "new.person@example.org")
    assert user.roles == ("coordinator", "treasurer") and user.active
    assert user.password_hash is None  # the invitation mail's link sets it (test_invitations)


def test_creating_a_user_reports_problems_and_stores_nothing(admin: Browser, db: Database
                                                             ) -> None:
    cases = [
        ({"email": "not-an-address", "roles": ["coordinator"]}, "gültige E-Mail-Adresse"),
        ({"email": "x@example.org", "roles": []}, "mindestens eine Rolle"),
        ({"email": "x@example.org", "other_roles": "Bad Role"}, "Kein Rollenname"),
        ({"email": COORDINATOR, "roles": ["admin"]}, "gibt bereits"),
    ]
    for data, message in cases:
        response = admin.post_form("/admin/users", data)
        assert response.status_code == 422, data
        assert message in response.get_data(as_text=True), data
    from engine.services.staff import list_users

    assert [u.email for u in list_users(db)] == [ADMIN, COORDINATOR]


def test_changing_roles(admin: Browser, db: Database) -> None:
    target = user_id(db, COORDINATOR)
    response = admin.post_form(f"/admin/users/{target}/roles",
                               {"roles": ["coordinator", "admin"]})
    assert response.status_code == 302
    assert get_user(db, COORDINATOR).roles == ("admin", "coordinator")


def test_the_last_administrator_cannot_be_demoted_or_deactivated(admin: Browser,
                                                                 db: Database) -> None:
    me = user_id(db, ADMIN)
    demote = admin.post_form(f"/admin/users/{me}/roles", {"roles": ["coordinator"]})
    assert demote.status_code == 422
    assert "Mindestens eine aktive Person" in demote.get_data(as_text=True)
    deactivate = admin.post_form(f"/admin/users/{me}/active", {"active": "0"})
    assert deactivate.status_code == 422
    assert get_user(db, ADMIN).roles == ("admin",) and get_user(db, ADMIN).active
    # With a second administrator it is allowed.
    admin.post_form(f"/admin/users/{user_id(db, COORDINATOR)}/roles", {"roles": ["admin"]})
    assert admin.post_form(f"/admin/users/{me}/roles",
                           {"roles": ["coordinator"]}).status_code == 302


def test_deactivating_and_reactivating_a_user(admin: Browser, db: Database, app: Flask) -> None:
    target = user_id(db, COORDINATOR)
    assert admin.post_form(f"/admin/users/{target}/active", {"active": "0"}).status_code == 302
    assert not get_user(db, COORDINATOR).active
    assert authenticate_user(db, COORDINATOR, PASSWORD) is None
    page = admin.get("/admin/users").get_data(as_text=True)
    assert f'id="user-{target}" data-testid="user-{COORDINATOR}"' in page
    assert 'data-active="false"' in page
    assert admin.post_form(f"/admin/users/{target}/active", {"active": "1"}).status_code == 302
    assert authenticate_user(db, COORDINATOR, PASSWORD) is not None


def test_an_api_token_is_shown_once_and_can_be_revoked(admin: Browser, db: Database) -> None:
    target = user_id(db, COORDINATOR)
    response = admin.post_form(f"/admin/users/{target}/tokens")
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    token = re.search(r'id="new-token" value="([^"]+)"', page).group(1)
    assert len(token) >= 43
    assert user_for_token(db, token).email == COORDINATOR
    # Never shown again.
    assert token not in admin.get("/admin/users").get_data(as_text=True)
    (record,) = tokens_of(db, COORDINATOR)
    revoked = admin.post_form(f"/admin/users/{target}/tokens/{record.id}/revoke")
    assert revoked.status_code == 302
    assert user_for_token(db, token) is None
    assert tokens_of(db, COORDINATOR)[0].revoked
    # A token id that belongs to someone else is not found.
    other = admin.post_form(f"/admin/users/{user_id(db, ADMIN)}/tokens/{record.id}/revoke")
    assert other.status_code == 404


def test_unknown_users_are_404(admin: Browser) -> None:
    assert admin.post_form("/admin/users/999/roles", {"roles": ["admin"]}).status_code == 404
    assert admin.post_form("/admin/users/999/tokens").status_code == 404
