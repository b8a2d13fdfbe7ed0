"""Baseline for ``bench/api_submit.py``: the least a hand-written Flask + WTForms endpoint does.

It accepts the membership form's answers as JSON, validates the same fields with the same
limits (a WTForms form written out by hand), and inserts one row into SQLite — in WAL mode
with ``synchronous=FULL`` like formflow, so durability costs the same on both sides. It has no
definitions, no workflow, no history, no outbox, no token lookups: it is what formflow's API
is measured against, not a product. Run under gunicorn, after ``prepare(path)``:

    BASELINE_DATABASE=/tmp/base.sqlite3 gunicorn -w 2 --pythonpath bench \
        'baseline_submit:create_app()'
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, jsonify, request
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Form, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

__all__ = ["MembershipForm", "create_app", "prepare"]

TOPICS = ["integrierte_partizipation", "transparenz", "qualitaet", "kompetenz", "beteiligung"]
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
TEL = r"^\+?[0-9 ()/.-]{3,}$"


class MembershipForm(Form):
    request = BooleanField(validators=[InputRequired()])
    name = StringField(validators=[InputRequired(), Length(max=120)])
    institution = StringField(validators=[Optional(), Length(max=200)])
    function = StringField(validators=[Optional(), Length(max=120)])
    street = StringField(validators=[Optional(), Length(max=120)])
    postcode = StringField(validators=[Optional(), Regexp(r"^[0-9]{5}$")])
    town = StringField(validators=[Optional(), Length(max=80)])
    phone = StringField(validators=[Optional(), Length(max=40), Regexp(TEL)])
    email = StringField(validators=[InputRequired(), Length(max=254), Regexp(EMAIL)])
    activities = TextAreaField(validators=[Optional(), Length(max=1000)])
    topic = SelectField(choices=[("", "")] + [(t, t) for t in TOPICS], validate_choice=True)
    topic_consent = BooleanField()

    def validate_topic_consent(self, field: BooleanField) -> None:
        if self.topic.data and not field.data:
            raise ValidationError("required when a topic is chosen")


def _formdata(answers: dict[str, Any]) -> MultiDict[str, str]:
    """JSON answers as the form data WTForms reads (a ticked box is present, else absent)."""
    items = []
    for key, value in answers.items():
        if value is True:
            items.append((key, "y"))
        elif isinstance(value, str | int | float) and value is not False:
            items.append((key, str(value).strip()))
    return MultiDict(items)


class _Connections(threading.local):
    connection: sqlite3.Connection | None = None


def prepare(path: str) -> None:
    """The database file, in WAL mode, with its table — once, before the workers start.

    (Switching a file to WAL takes a lock that SQLite does not wait for with its busy
    handler, so workers doing it on their first request could fail each other.)"""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(
            "CREATE TABLE IF NOT EXISTS submissions (id TEXT PRIMARY KEY, reference TEXT, "
            "token_hash TEXT, answers TEXT, created_at TEXT)"
        )
    finally:
        conn.close()


def create_app() -> Flask:
    path = os.environ["BASELINE_DATABASE"]
    local = _Connections()

    def connection() -> sqlite3.Connection:
        if local.connection is None:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA synchronous = FULL")
            local.connection = conn
        return local.connection

    app = Flask(__name__)

    @app.get("/health")
    def health() -> Any:
        return jsonify(status="ok")

    @app.post("/submit")
    def submit() -> Any:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("answers"), dict):
            return jsonify(error="invalid_json", message="send a JSON object"), 400
        form = MembershipForm(formdata=_formdata(body["answers"]))
        if not form.validate():
            return jsonify(error="invalid", message="invalid", errors=form.errors), 422
        token = secrets.token_urlsafe(32)
        submission_id = uuid.uuid4().hex
        conn = connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            (count,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM submissions").fetchone()
            reference = f"M-{datetime.now(UTC).year}-{count + 1:05d}"
            conn.execute(
                "INSERT INTO submissions VALUES (?, ?, ?, ?, ?)",
                (submission_id, reference, hashlib.sha256(token.encode()).hexdigest(),
                 json.dumps(form.data), datetime.now(UTC).isoformat()),
            )
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return jsonify(id=submission_id, reference=reference, state="submitted", token=token,
                       status_url=f"http://127.0.0.1/status/{token}"), 201

    return app
