"""Definitions, users and a signed-in client for the coordinator tests (signing in itself is
``support.signin``'s)."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from engine.services import Database, import_definition, publish_form
from engine.services.tokens import hash_token
from support.signin import csrf_field, signed_in

PASSWORD = "correct horse battery"
COORDINATOR = "coord@example.org"
OTHER_COORDINATOR = "other@example.org"
ADMIN = "admin@example.org"
TREASURER = "treasurer@example.org"
"""A user with only a custom role: may sign in, may not use the inbox."""

WORKFLOW: dict[str, Any] = {
    "id": "triage",
    "title": {"de": "Sichtung", "en": "Triage"},
    "initial": "submitted",
    "states": [
        {"id": "submitted", "label": {"de": "Eingegangen", "en": "Submitted"}},
        {"id": "reviewed", "label": {"de": "Geprüft", "en": "Reviewed"}},
        {"id": "accepted", "label": {"de": "Angenommen", "en": "Accepted"}, "final": True},
        {"id": "rejected", "label": {"de": "Abgelehnt", "en": "Rejected"}, "final": True},
    ],
    "transitions": [
        {"id": "review", "from": "submitted", "to": "reviewed", "roles": ["coordinator"],
         "label": {"de": "Als geprüft markieren", "en": "Mark reviewed"}},
        {"id": "accept", "from": "reviewed", "to": "accepted", "roles": ["coordinator"],
         "comment": "none", "label": {"de": "Annehmen", "en": "Accept"}},
        {"id": "fast_track", "from": "submitted", "to": "accepted", "roles": ["coordinator"],
         "when": {"field": "age", "op": "greater_or_equal", "value": 18},
         "label": {"de": "Direkt annehmen", "en": "Fast track"}},
        {"id": "reject", "from": ["submitted", "reviewed"], "to": "rejected",
         "roles": ["coordinator"], "comment": "required",
         "label": {"de": "Ablehnen", "en": "Reject"}},
        {"id": "override", "from": "reviewed", "to": "submitted", "roles": ["treasurer"],
         "label": {"de": "Zurücksetzen", "en": "Reset"}},
    ],
    "notifications": [
        {"on": "submitted", "to": "applicant", "template": "received"},
        {"on": "accepted", "to": "applicant", "template": "accepted"},
    ],
    "templates": {
        name: {"subject": {"de": name, "en": name},
               "body": {"de": "{{ answers.name }}", "en": "{{ answers.name }}"}}
        for name in ("received", "accepted")
    },
}

FORM: dict[str, Any] = {
    "id": "grant",
    "title": {"de": "Förderantrag", "en": "Grant application"},
    "languages": ["de", "en"],
    "workflow": "triage",
    "reference_prefix": "G",
    "applicant": {"email": "email", "name": "name"},
    "steps": [
        {"id": "person", "title": {"de": "Person", "en": "Person"}, "fields": [
            {"id": "name", "type": "text", "label": {"de": "Name", "en": "Name"},
             "required": True, "max_length": 120},
            {"id": "email", "type": "email", "label": {"de": "E-Mail", "en": "Email"}},
            {"id": "age", "type": "number", "label": {"de": "Alter", "en": "Age"}},
        ]},
        {"id": "project", "title": {"de": "Vorhaben", "en": "Project"}, "fields": [
            {"id": "topic", "type": "select", "label": {"de": "Thema", "en": "Topic"},
             "options": [{"value": "culture", "label": {"de": "Kultur", "en": "Culture"}},
                         {"value": "sport", "label": {"de": "Sport", "en": "Sport"}}]},
            {"id": "summary", "type": "textarea",
             "label": {"de": "Kurzbeschreibung", "en": "Summary"}},
        ]},
    ],
    "rules": [],
}


def form(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(FORM)
    data.update(changes)
    return data


def answers(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"name": "Ada Lovelace", "email": "ada@example.org", "age": "36",
                              "topic": "culture", "summary": "Ein Konzert im Park."}
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


class Staff:
    """Signed-in test clients for the app's users."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def client(self, email: str | None = None, password: str = PASSWORD) -> FlaskClient:
        if email is None:
            return self.app.test_client()
        return signed_in(self.app, email, password)


def post_form(client: FlaskClient, page_url: str, action: str, data: Mapping[str, Any]
              ) -> TestResponse:
    """POST ``data`` to ``action`` with the CSRF token of the page at ``page_url``."""
    page = client.get(page_url).get_data(as_text=True)
    return client.post(action, data={**csrf_field(page), **data})


def bulk_insert_submissions(
    db: Database,
    count: int,
    *,
    form_id: str = "grant",
    states: Iterable[str] = ("submitted",),
    start: datetime | None = None,
    answers_for: Any = None,
    batch: int = 5000,
) -> None:
    """Insert ``count`` submissions FAST, straight into the table, for volume tests.

    Deliberately bypasses ``engine.services.submit`` (no evaluation, no events, no outbox):
    going through the service would take minutes for 100,000 rows, and these tests are about
    reading (lists, exports), not about submitting. Rows are made exactly like the storage
    layer makes them (pinned version rows, unique references and token hashes) and inserted
    with SQLAlchemy Core through the database's own engine.
    """
    from sqlalchemy import insert

    from engine.storage.tables import SubmissionRow

    state_list = list(states)
    moment = start or datetime(2026, 1, 1, tzinfo=UTC)
    with db.read() as store:
        form_record = store.definitions.published("form", form_id)
        assert form_record is not None
        workflow_record = store.definitions.published("workflow", "triage")
        assert workflow_record is not None
    engine = db.engine  # test helper: bulk speed, see the docstring
    rows = []
    with engine.begin() as connection:
        for number in range(count):
            submission_id = uuid.uuid4().hex
            created = moment + timedelta(seconds=number)
            rows.append({
                "id": submission_id,
                "reference": f"B-{number:07d}-{submission_id[:6]}",
                "form_id": form_id,
                "form_version_id": form_record.row_id,
                "workflow_version_id": workflow_record.row_id,
                "state": state_list[number % len(state_list)],
                "version": 1,
                "token_hash": hash_token(submission_id),
                "answers": answers_for(number) if answers_for else {
                    "name": f"Person {number}", "email": f"p{number}@example.org",
                    "age": 20 + number % 50, "topic": "culture", "summary": "Park"},
                "language": "de",
                "created_at": created,
                "updated_at": created,
                "assigned_to": None,
            })
            if len(rows) >= batch:
                connection.execute(insert(SubmissionRow), rows)
                rows.clear()
        if rows:
            connection.execute(insert(SubmissionRow), rows)

CONSENT_LABEL = "=Ich willige in die Speicherung meiner Angaben ein (Text 4c1e)"
"""The grant form's consent box (from version 2), starting like a spreadsheet formula."""


def publish_grant_with_consent(db: Database) -> None:
    """Version 2 of the grant form, with a ``"consent": true`` checkbox ``agree``."""
    data = form()
    data["steps"][1]["fields"].append({
        "id": "agree", "type": "checkbox", "consent": True,
        "label": {"de": CONSENT_LABEL, "en": "I agree (text 4c1e)"}})
    import_definition(db, data, "form")
    publish_form(db, "grant")
