"""One navigation for staff, showing only what the roles open; a translated 403 with a way
back; role names, never role ids (issue 16, "Navigation and refusals")."""

from __future__ import annotations

import re

from flask import Flask

from engine.services import Database, create_user
from support.admin import ADMIN, COORDINATOR, PASSWORD, Browser
from support.signin import login

NAV = re.compile(r'<nav class="staff-nav".*?</nav>', re.S)


def nav_links(page: str) -> list[str]:
    found = NAV.search(page)
    assert found, "no staff navigation on the page"
    return re.findall(r'id="nav-([a-z-]+)"', found.group(0))


def test_an_administrator_lands_on_the_inbox_and_reaches_everything(app: Flask) -> None:
    browser = Browser(app)
    response = browser.login(ADMIN)
    assert response.headers["Location"].endswith("/inbox")
    inbox = browser.get("/inbox").get_data(as_text=True)
    assert nav_links(inbox) == ["inbox", "definitions", "users", "notifications", "audit",
                                "account"]
    for label in ("Eingang", "Formulare & Abläufe", "Benutzer", "Benachrichtigungen",
                  "Protokoll", "Konto"):
        assert label in NAV.search(inbox).group(0)  # type: ignore[union-attr]
    admin_page = browser.get("/admin/users").get_data(as_text=True)
    assert nav_links(admin_page) == nav_links(inbox)  # the same navigation everywhere


def test_a_coordinator_sees_only_what_they_may_use(coordinator: Browser) -> None:
    inbox = coordinator.get("/inbox").get_data(as_text=True)
    assert nav_links(inbox) == ["inbox", "account"]


def test_a_user_with_only_a_workflow_role_lands_on_their_account(app: Flask, db: Database
                                                                ) -> None:
    create_user(db, "treasurer@example.org", ["treasurer"], PASSWORD)
    client = app.test_client()
    response = login(client, "treasurer@example.org", PASSWORD)
    assert response.headers["Location"].endswith("/account")
    assert client.get("/inbox").status_code == 403
    page = client.get("/account").get_data(as_text=True)
    assert nav_links(page) == ["account"]
    assert "treasurer" in page


def test_a_coordinator_opening_the_administration_is_told_they_may_not(coordinator: Browser
                                                                       ) -> None:
    for url in ("/admin/", "/admin/users", "/admin/forms"):
        response = coordinator.get(url)
        assert response.status_code == 403, url
        page = response.get_data(as_text=True)
        assert "Das dürfen Sie nicht" in page
        assert "Die Anfrage konnte nicht verarbeitet werden" not in page
        assert 'href="/inbox" id="error-back"' in page
    english = coordinator.get("/admin/users?lang=en").get_data(as_text=True)
    assert "You may not do this" in english and "Back to your start page" in english


def test_role_names_are_shown_translated_never_as_ids(admin: Browser) -> None:
    users = admin.get("/admin/users").get_data(as_text=True)
    labels = re.findall(r'<label for="[^"]*-role-[^"]*">([^<]*)</label>', users)
    assert "Koordination" in labels and "Administration" in labels
    assert "coordinator" not in labels and "admin" not in labels
    assert "treasurer" in labels  # a workflow's own role is shown as written
    account = admin.get("/account").get_data(as_text=True)
    assert re.search(r'id="account-roles">Administration<', account)
    english = admin.get("/account?lang=en").get_data(as_text=True)
    assert re.search(r'id="account-roles">Administration<', english)


def test_the_coordinator_role_is_named_in_english_too(app: Flask) -> None:
    browser = Browser(app, COORDINATOR)
    assert re.search(r'id="account-roles">Koordination<',
                     browser.get("/account").get_data(as_text=True))
    assert re.search(r'id="account-roles">Coordination<',
                     browser.get("/account?lang=en").get_data(as_text=True))
