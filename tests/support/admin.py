"""Definitions, users and signed-in clients for the administration tests.

Everything runs against a real app (``create_app``) over a real SQLite file; users sign in
through the real login form and every POST carries the CSRF token the way a browser would
(the hidden ``_csrf_token`` field for forms, the ``X-CSRFToken`` header for the editor's
JSON calls). Nothing of ours is mocked.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from support.signin import CSRF_INPUT, login

PASSWORD = "correct horse battery"
ADMIN = "admin@example.org"
COORDINATOR = "coord@example.org"

WORKFLOW: dict[str, Any] = {
    "id": "triage",
    "title": {"de": "Sichtung", "en": "Triage"},
    "initial": "submitted",
    "states": [
        {"id": "submitted", "label": {"de": "Eingegangen", "en": "Submitted"}},
        {"id": "accepted", "label": {"de": "Angenommen", "en": "Accepted"}, "final": True},
        {"id": "rejected", "label": {"de": "Abgelehnt", "en": "Rejected"}, "final": True},
    ],
    "transitions": [
        {"id": "accept", "from": "submitted", "to": "accepted", "roles": ["coordinator"],
         "label": {"de": "Annehmen", "en": "Accept"},
         "when": {"field": "age", "op": "greater_or_equal", "value": 18}},
        {"id": "reject", "from": "submitted", "to": "rejected", "roles": ["coordinator"],
         "comment": "required", "label": {"de": "Ablehnen", "en": "Reject"}},
        {"id": "audit", "from": "submitted", "to": "accepted", "roles": ["treasurer"]},
    ],
}

FORM: dict[str, Any] = {
    "id": "grant",
    "title": {"de": "Förderantrag", "en": "Grant application"},
    "languages": ["de", "en"],
    "workflow": "triage",
    "applicant": {"email": "email"},
    "steps": [
        {"id": "person", "title": {"de": "Person", "en": "Person"}, "fields": [
            {"id": "name", "type": "text", "label": {"de": "Name", "en": "Name"},
             "required": True, "max_length": 120},
            {"id": "email", "type": "email", "label": {"de": "E-Mail", "en": "Email"}},
            {"id": "age", "type": "number", "label": {"de": "Alter", "en": "Age"}},
            {"id": "phone", "type": "tel", "label": {"de": "Telefon", "en": "Phone"},
             "required": True},
        ]},
        {"id": "project", "title": {"de": "Vorhaben", "en": "Project"}, "fields": [
            {"id": "topic", "type": "select", "label": {"de": "Thema", "en": "Topic"},
             "options": [{"value": "culture", "label": {"de": "Kultur", "en": "Culture"}},
                         {"value": "sport", "label": {"de": "Sport", "en": "Sport"}}]},
            {"id": "consent", "type": "checkbox",
             "label": {"de": "Einverstanden", "en": "I agree"}},
            {"id": "details", "type": "textarea",
             "label": {"de": "Einzelheiten", "en": "Details"}},
        ]},
    ],
    "rules": [
        {"when": {"field": "topic", "op": "equal_to", "value": "sport"},
         "show": ["details"], "require": ["details"]},
    ],
}


def form(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(FORM)
    data.update(changes)
    return data


class Browser:
    """A test client that signs in and sends CSRF tokens like the admin pages do."""

    def __init__(self, app: Flask, email: str | None = None) -> None:
        self.app = app
        self.client: FlaskClient = app.test_client()
        self.token = ""
        if email is not None:
            self.login(email)
        else:
            self.refresh_token()

    def login(self, email: str, password: str = PASSWORD) -> TestResponse:
        response = login(self.client, email, password)
        assert response.status_code == 302, response.get_data(as_text=True)[:300]
        self.refresh_token()
        return response

    def refresh_token(self) -> str:
        """The session's CSRF token, from the first page that has a form with one."""
        for url in ("/admin/users", "/inbox", "/login"):
            match = CSRF_INPUT.search(self.client.get(url).get_data(as_text=True))
            if match:
                self.token = match.group(2) or match.group(3)
                return self.token
        raise AssertionError("no page with a CSRF token")

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.client.get(url, **kwargs)

    def post_form(self, url: str, data: Mapping[str, Any] | None = None,
                  **kwargs: Any) -> TestResponse:
        return self.client.post(url, data={"_csrf_token": self.token, **(data or {})}, **kwargs)

    def post_json(self, url: str, body: Any, *, csrf: bool = True) -> TestResponse:
        headers = {"Accept": "application/json"}
        if csrf:
            headers["X-CSRFToken"] = self.token
        return self.client.post(url, data=json.dumps(body), headers=headers,
                                content_type="application/json")


def editor_config(page: str) -> dict[str, Any]:
    """The JSON block the editor page hands its scripts."""
    found = re.search(
        r'<script type="application/json" id="editor-config">(.*?)</script>', page, re.S)
    assert found, "no editor configuration on the page"
    return json.loads(found.group(1))
