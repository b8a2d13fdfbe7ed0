"""Helpers for the JSON API tests: a real app over a real database, users made by services.

The shipped forms and workflows are imported through ``engine.services.import_directory``,
plus a small form with a guarded workflow for the 409 cases; staff users and their API tokens
are made with the user services (see ``tests/api/conftest.py``). Nothing of our own is
mocked.

A module runs on both backends with ``pytestmark = BOTH_BACKENDS`` (``support.postgres``).
Without a reachable PostgreSQL those variants are skipped, unless ``CI=true``, where that is a
failure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.services import (
    Database,
    import_definition,
    import_directory,
    publish_form,
    publish_workflow,
)
from web import create_app

PROJECT_ROOT = Path(__file__).resolve().parents[2]

GUARDED_WORKFLOW: dict[str, Any] = {
    "id": "vetting",
    "title": {"de": "Prüfung mit Bedingung", "en": "Vetting"},
    "initial": "submitted",
    "states": [
        {"id": "submitted", "label": {"de": "Eingegangen", "en": "Submitted"}},
        {"id": "approved", "label": {"de": "Angenommen", "en": "Approved"}, "final": True},
        {"id": "declined", "label": {"de": "Abgelehnt", "en": "Declined"}, "final": True},
    ],
    "transitions": [
        {"id": "approve", "from": "submitted", "to": "approved", "roles": ["coordinator"],
         "when": {"field": "age", "op": "greater_or_equal", "value": 18}},
        {"id": "decline", "from": "submitted", "to": "declined", "roles": ["coordinator"],
         "comment": "required"},
        {"id": "audit", "from": "submitted", "to": "approved", "roles": ["treasurer"],
         "comment": "none"},
    ],
}

GUARDED_FORM: dict[str, Any] = {
    "id": "club",
    "title": {"de": "Verein", "en": "Club"},
    "languages": ["en", "de"],
    "workflow": "vetting",
    "steps": [
        {"id": "about", "title": {"de": "Über Sie", "en": "About you"}, "fields": [
            {"id": "name", "type": "text", "label": {"de": "Name", "en": "Name"},
             "required": True},
            {"id": "age", "type": "number", "label": {"de": "Alter", "en": "Age"},
             "required": True, "min": 0},
        ]},
    ],
}

MEMBERSHIP_ANSWERS: dict[str, Any] = {
    "request": True,
    "name": "Ada Lovelace",
    "institution": "Analytical Engines e.V.",
    "email": "ada@example.org",
    "postcode": "10117",
    "topic": "transparenz",
    "topic_consent": True,
}

STAFF = {
    "coordinator": ("coord@example.org", ["coordinator"]),
    "admin": ("admin@example.org", ["admin"]),
    "treasurer": ("treasurer@example.org", ["treasurer"]),
}


# -- the app --------------------------------------------------------------------------------


@dataclass
class Api:
    """The app under test, its client and database, and the staff's API tokens by role."""

    app: Flask
    client: FlaskClient
    db: Database
    tokens: dict[str, str] = field(default_factory=dict)

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> TestResponse:
        return self.client.get(path, headers=_auth(token, kwargs.pop("headers", None)), **kwargs)

    def post(
        self, path: str, body: Any = None, token: str | None = None, **kwargs: Any
    ) -> TestResponse:
        headers = _auth(token, kwargs.pop("headers", None))
        if body is not None:
            kwargs["json"] = body
        return self.client.post(path, headers=headers, **kwargs)

    def submit(self, form_id: str = "membership", answers: Mapping[str, Any] | None = None,
               **body: Any) -> dict[str, Any]:
        """Submit valid answers (default: the membership form) and return the 201 body."""
        payload = {"answers": dict(MEMBERSHIP_ANSWERS if answers is None else answers), **body}
        response = self.post(f"/api/forms/{form_id}/submissions", payload)
        assert response.status_code == 201, response.get_json()
        created = response.get_json()
        assert isinstance(created, dict)
        return created

    def fire(self, submission_id: str, transition: str, role: str = "coordinator",
             **body: Any) -> TestResponse:
        return self.post(f"/api/submissions/{submission_id}/transitions",
                         {"transition": transition, **body}, token=self.tokens[role])


def _auth(token: str | None, headers: Mapping[str, str] | None) -> dict[str, str]:
    result = dict(headers or {})
    if token is not None:
        result["Authorization"] = f"Bearer {token}"
    return result


API_SETTINGS: dict[str, Any] = {
    "BASE_URL": "https://forms.example.org",
    "RATELIMIT_SUBMISSIONS": "1000 per minute",
    "NOTIFY_ENQUEUE": False,  # outbox rows are written; Redis is not what these tests test
}
"""What the API tests' apps are given on top of the ``app_config`` of ``tests/conftest.py``."""


def make_app(instance: Path, database_url: str, **config: Any) -> Flask:
    """An app with the API tests' settings outside the ``app`` fixture (for a database that
    cannot be reached, or an app that gets an extra blueprint)."""
    settings = {
        "TESTING": True,
        "INSTANCE_PATH": str(instance),
        "DATABASE_URL": database_url,
        **API_SETTINGS,
        **config,
    }
    return create_app(settings)


def publish_everything(db: Database) -> None:
    """The shipped definitions plus the guarded test form, through the services."""
    db.upgrade()
    outcomes = import_directory(db, PROJECT_ROOT / "forms", PROJECT_ROOT / "workflows")
    assert all(o.ok for o in outcomes), [o.problems for o in outcomes if not o.ok]
    import_definition(db, GUARDED_WORKFLOW, "workflow")
    publish_workflow(db, "vetting")
    import_definition(db, GUARDED_FORM, "form")
    publish_form(db, "club")


def assert_error(response: TestResponse, status: int, code: str | None = None) -> dict[str, Any]:
    """The response is a JSON error body of the API's shape, without a traceback."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json", response.get_data(as_text=True)
    body = response.get_json()
    assert isinstance(body, dict)
    assert isinstance(body.get("error"), str) and body["error"]
    assert isinstance(body.get("message"), str) and body["message"]
    if code is not None:
        assert body["error"] == code, body
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and 'File "' not in text
    return body
