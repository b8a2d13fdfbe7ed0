"""Baseline for ``bench/render.py``: the membership form's *Mitarbeit* step written by hand in
Flask + WTForms — what formflow's generic step page is measured against.

The same three fields (the textarea with its "n / 1000" counter, the topic select, the consent
checkbox hidden until a topic is chosen), the same page around them (header with the language
links, progress and step list, CSRF token, honeypot, the three buttons, the resume box), the
same security headers, and — when the browser's session names one — the saved answers read
from a draft row in SQLite (WAL, like formflow) by the hash of its token. It has no
definitions, no rule engine, no translations, no embedded definition for the browser: the
visibility of the consent is one ``if``. Run under gunicorn:

    BASELINE_DATABASE=/tmp/base.sqlite3 gunicorn -w 2 --pythonpath bench \
        'baseline_render:create_app()'

``GET /new-draft`` stores a draft with the benchmark's answers and puts its token into the
session (the counterpart of formflow's resume link); ``GET /step/participation`` is the page.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, Response, jsonify, redirect, render_template, session
from flask_wtf.csrf import CSRFProtect
from jinja2 import DictLoader
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Form, SelectField, TextAreaField

__all__ = ["ANSWERS", "ParticipationForm", "create_app"]

TOPICS = [
    ("integrierte_partizipation", "Integrierte Partizipation"),
    ("transparenz", "Transparenz"),
    ("qualitaet", "Qualität"),
    ("kompetenz", "Kompetenz"),
    ("beteiligung", "Beteiligung"),
]
ANSWERS = {"activities": "Beteiligungsverfahren in der Kommune, Bürgerräte, Moderation.",
           "topic": "transparenz", "topic_consent": True}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class ParticipationForm(Form):
    activities = TextAreaField(
        "Kurze Darstellung meiner Tätigkeiten, Erfahrungen und Interessen im Bereich der "
        "Partizipation", id="field-activities")
    topic = SelectField(
        "Ich würde gerne in folgendem Themenkreis mitarbeiten", id="field-topic",
        choices=[("", "Bitte wählen (freiwillig)"), *TOPICS], validate_choice=False)
    topic_consent = BooleanField(
        "Hierfür benötigen wir Ihre Zustimmung: Ich bin einverstanden, dass mein Name, meine "
        "Institution und meine E-Mail-Adresse an die Mitglieder des gewählten Themenkreises "
        "weitergegeben werden.", id="field-topic_consent")


PAGE = """<!doctype html>
<html lang="de">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Mitarbeit – Antrag auf Mitgliedschaft</title>
  <link rel="stylesheet" href="/static/formflow.css">
</head>
<body>
  <a class="ff-skip-link" href="#main">Zum Inhalt springen</a>
  <header class="ff-header">
    <a class="ff-home" href="/">Formulare</a>
    <nav class="ff-languages" aria-label="Sprache"><ul>
      <li><a id="lang-de" href="?lang=de" hreflang="de" lang="de"
             aria-current="true">Deutsch</a></li>
      <li><a id="lang-en" href="?lang=en" hreflang="en" lang="en">English</a></li>
    </ul></nav>
  </header>
  <main id="main" tabindex="-1">
    <p class="ff-form-title">Antrag auf Mitgliedschaft</p>
    <nav class="ff-progress" aria-labelledby="progress">
      <p id="progress">Schritt 3 von 3</p>
      <ol class="ff-steps"><li>Antrag und Person</li><li>Adresse und Kontakt</li>
        <li aria-current="step">Mitarbeit</li></ol>
    </nav>
    <h1 id="step-title">Mitarbeit</h1>
    <p class="ff-required-note">Mit * markierte Felder sind Pflichtfelder.</p>
    <form id="step-form" class="ff-form" method="post" novalidate action="/step/participation">
      <input type="hidden" name="_csrf_token" value="{{ csrf_token() }}">
      <section data-step="participation" aria-labelledby="step-title">
        <div class="ff-field ff-textarea" data-field="activities">
          {{ form.activities.label }}
          <p class="ff-help" id="field-activities-help">Ein paar Sätze genügen: Woran arbeiten
            Sie, welche Beteiligungsverfahren kennen Sie aus der Praxis, was möchten Sie in die
            Allianz einbringen?</p>
          {{ form.activities(maxlength="1000", **{"aria-describedby": "field-activities-help"}) }}
          <p class="ff-counter" id="field-activities-counter"
             aria-live="polite">{{ count }} / 1000</p>
        </div>
        <div class="ff-field ff-select" data-field="topic">
          {{ form.topic.label }}
          <p class="ff-help" id="field-topic-help">Freiwillig. Integrierte Partizipation: neue
            und repräsentative Beteiligungsformen verzahnen. Transparenz: Beteiligungsatlas.
            Qualität: Qualitätsstandards guter Beteiligung. Kompetenz: Beteiligungskompetenz in
            Politik und Verwaltung. Beteiligung: beteiligungsferne Gruppen erreichen.</p>
          {{ form.topic(**{"aria-describedby": "field-topic-help"}) }}
        </div>
        <div class="ff-field ff-checkbox" data-field="topic_consent"{{ consent_hidden }}>
          <div class="ff-option">
            {{ form.topic_consent(value="true", disabled=not topic, required=topic,
                                  **{"aria-describedby": "field-topic_consent-help"}) }}
            {{ form.topic_consent.label }}
          </div>
          <p class="ff-help" id="field-topic_consent-help">Ohne diese Zustimmung können wir Sie
            keinem Themenkreis zuordnen. Sie können sie jederzeit per E-Mail widerrufen.</p>
        </div>
      </section>
      <div class="ff-hp" aria-hidden="true">
        <label for="ff-hp-field">Dieses Feld bitte leer lassen</label>
        <input type="text" id="ff-hp-field" name="_homepage" value="" tabindex="-1"
               autocomplete="off">
      </div>
      <div class="ff-actions">
        <button type="submit" class="ff-button" id="next" name="_action"
                value="next">Weiter</button>
        <button type="submit" class="ff-button ff-secondary" id="back" name="_action"
                value="back">Zurück</button>
        <button type="submit" class="ff-link-button" id="save" name="_action"
                value="save">Speichern und später weitermachen</button>
      </div>
    </form>
    <aside class="ff-resume" id="resume" aria-labelledby="resume-title">
      <h2 id="resume-title">Später weitermachen</h2>
      {% if resume_url %}
        <p class="ff-resume-link"><a id="resume-link"
           href="{{ resume_url }}">{{ resume_url }}</a></p>
        <p id="resume-expires">Der Link gilt bis zum {{ expires }}.</p>
      {% else %}
        <p>Ihre Angaben werden gespeichert, sobald Sie zum nächsten Schritt gehen.</p>
      {% endif %}
    </aside>
  </main>
</body>
</html>
"""


class _Connections(threading.local):
    connection: sqlite3.Connection | None = None


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_app() -> Flask:
    path = os.environ["BASELINE_DATABASE"]
    local = _Connections()

    def connection() -> sqlite3.Connection:
        if local.connection is None:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
            conn.execute("CREATE TABLE IF NOT EXISTS drafts (token_hash TEXT PRIMARY KEY, "
                         "answers TEXT, step TEXT, expires_at TEXT)")
            local.connection = conn
        return local.connection

    app = Flask(__name__)
    app.jinja_loader = DictLoader({"participation.html": PAGE})  # compiled once, cached
    app.config.update(SECRET_KEY=os.environ.get("BASELINE_SECRET_KEY", "baseline-only"),
                      WTF_CSRF_FIELD_NAME="_csrf_token", WTF_CSRF_TIME_LIMIT=None)
    CSRFProtect(app)

    @app.after_request
    def headers(response: Response) -> Response:
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.get("/health")
    def health() -> Any:
        return jsonify(status="ok")

    @app.get("/new-draft")
    def new_draft() -> Any:
        token = secrets.token_urlsafe(32)
        expires = datetime.now(UTC) + timedelta(days=30)
        connection().execute("INSERT INTO drafts VALUES (?, ?, ?, ?)",
                             (_hash(token), json.dumps(ANSWERS), "participation",
                              expires.isoformat()))
        session["draft"] = token
        return redirect("/step/participation")

    @app.get("/step/participation")
    def participation() -> Any:
        answers: dict[str, Any] = {}
        resume_url = expires = None
        token = session.get("draft")
        if isinstance(token, str):
            row = connection().execute(
                "SELECT answers, expires_at FROM drafts WHERE token_hash = ?", (_hash(token),)
            ).fetchone()
            if row is not None and datetime.fromisoformat(row[1]) > datetime.now(UTC):
                answers = json.loads(row[0])
                resume_url = f"http://127.0.0.1/resume/{token}"
                expires = datetime.fromisoformat(row[1]).strftime("%d.%m.%Y")
        form = ParticipationForm(formdata=MultiDict(
            {k: ("y" if v is True else str(v)) for k, v in answers.items() if v}))
        topic = bool(answers.get("topic"))
        activities = answers.get("activities") or ""
        return render_template(
            "participation.html", form=form, topic=topic, count=len(activities.strip()),
            consent_hidden=Markup("") if topic else Markup(" hidden"),
            resume_url=resume_url, expires=expires)

    return app
