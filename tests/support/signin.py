"""Staff and signing in the way a browser does, shared by the admin, coordinator and
notification tests.

``prepare_staff_database`` prepares the database those tests' app runs on: migrated, a workflow and
form imported and published through the services, and users made with them. ``login`` goes
through the real login form, CSRF token and all — nothing of ours is mocked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.services import create_user, import_definition, publish_form, publish_workflow
from engine.storage import Database

__all__ = ["CSRF_INPUT", "prepare_staff_database", "csrf_field", "login", "signed_in"]

CSRF_INPUT = re.compile(
    r'name="(_?csrf_token)"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="(_?csrf_token)"'
)


def csrf_field(page: str) -> dict[str, str]:
    """The CSRF hidden field of the first form on ``page``, as form data."""
    found = CSRF_INPUT.search(page)
    assert found, "no CSRF token on the page"
    if found.group(1):
        return {found.group(1): found.group(2)}
    return {found.group(4): found.group(3)}


def login(client: FlaskClient, email: str, password: str, next_url: str | None = None
          ) -> TestResponse:
    """Send the login form as a browser would (the response is the caller's to judge)."""
    query = f"?next={next_url}" if next_url else ""
    page = client.get(f"/login{query}").get_data(as_text=True)
    data = {"email": email, "password": password, **csrf_field(page)}
    if next_url:
        data["next"] = next_url
    return client.post(f"/login{query}", data=data)


def signed_in(app: Flask, email: str, password: str) -> FlaskClient:
    """A new client of ``app``, signed in as ``email``."""
    client = app.test_client()
    response = login(client, email, password)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def prepare_staff_database(
    db: Database,
    *,
    workflow: Mapping[str, Any],
    form: Mapping[str, Any],
    users: Iterable[tuple[str, list[str]]],
    password: str,
) -> None:
    """Migrate ``db``, import and publish ``workflow`` and ``form`` and create ``users``
    (email, roles) with ``password``, all through the services."""
    db.upgrade()
    import_definition(db, dict(workflow), "workflow")
    publish_workflow(db, str(workflow["id"]))
    import_definition(db, dict(form), "form")
    publish_form(db, str(form["id"]))
    for email, roles in users:
        create_user(db, email, roles, password)
