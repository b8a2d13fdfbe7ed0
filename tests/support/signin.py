"""Staff apps and signing in the way a browser does, shared by the admin, coordinator and
notification tests.

``staff_app`` is the app those tests run against: ``create_app`` over a fresh SQLite file in
the test's own folder, migrated, a workflow and form imported and published through the
services, and users made with them. ``login`` goes through the real login form, CSRF token and
all — nothing of ours is mocked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.services import create_user, import_definition, publish_form, publish_workflow
from web import create_app
from web.db import get_db

__all__ = ["CSRF_INPUT", "csrf_field", "login", "signed_in", "staff_app"]

STAFF_APP_ENVIRONMENT = (
    "FORMFLOW_ENV", "FORMFLOW_SECRET_KEY", "FORMFLOW_INSTANCE", "FORMFLOW_DATABASE_URL",
    "FORMFLOW_REDIS_URL", "FORMFLOW_FORMS_DIR", "FORMFLOW_WORKFLOWS_DIR",
)
"""Variables of the developer's shell that would otherwise leak into the app under test."""

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


def staff_app(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    workflow: Mapping[str, Any],
    form: Mapping[str, Any],
    users: Iterable[tuple[str, list[str]]],
    password: str,
) -> Flask:
    """A migrated app with ``workflow`` and ``form`` published and ``users`` (email, roles);
    the caller disposes of ``get_db(app)`` when done."""
    for name in STAFF_APP_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    app = create_app({
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'formflow.db'}",
        "RATELIMIT_STORAGE_URI": "memory://",
    })
    db = get_db(app)
    db.upgrade()
    import_definition(db, dict(workflow), "workflow")
    publish_workflow(db, str(workflow["id"]))
    import_definition(db, dict(form), "form")
    publish_form(db, str(form["id"]))
    for email, roles in users:
        create_user(db, email, roles, password)
    return app
