"""Baseline for ``bench/render.py``: the membership form's first step (*Antrag und Person*)
written by hand in Flask + Flask-WTF, as a competent Flask developer would.

A ``FlaskForm`` with the step's fields (the ticked request, name, institution, function),
rendered through a Jinja template with one ``render_field`` macro, inside the same page chrome
as formflow's (header with the language links, progress and step list, the introductory
paragraph, CSRF token, honeypot, buttons, resume box, script tags) and with the same security
headers. It has no definitions, no rules engine and no translations: the German texts are
written into the form class. Run under gunicorn:

    gunicorn -w 2 --pythonpath bench 'baseline_render:create_app()'

``GET /step/person`` is the page.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, Response, jsonify, render_template
from flask_wtf import FlaskForm
from jinja2 import DictLoader
from wtforms import BooleanField, StringField

HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cache-Control": "no-store",
}


class PersonForm(FlaskForm):
    request = BooleanField(
        "Ja, ich beantrage die Aufnahme als Mitglied der Allianz Vielfältige Demokratie.",
        id="field-request",
        description="Mit diesem Häkchen wird Ihr Antrag Teil der gespeicherten Angaben, die das "
                    "Koordinationsteam prüft.")
    name = StringField("Vor- und Nachname", id="field-name")
    institution = StringField(
        "Institution", id="field-institution",
        description="Behörde, Verwaltung, Organisation oder Initiative, in der Sie tätig sind.")
    function = StringField(
        "Funktion", id="field-function",
        description="Zum Beispiel Referentin für Bürgerbeteiligung oder Bürgermeister.")


TEMPLATES = {
    "base.html": """<!doctype html>
<html lang="de">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{% block title %}{% endblock %}</title>
  <link rel="stylesheet" href="{{ url_for('static', filename='formflow.css') }}">
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
  <main id="main" tabindex="-1">{% block content %}{% endblock %}</main>
  {% block scripts %}{% endblock %}
</body>
</html>
""",
    "_fields.html": """{% macro render_field(field, required=False) %}
  {% set help_id = field.id ~ '-help' %}
  {% set described = help_id if field.description else False %}
  {% if field.type == 'BooleanField' %}
    <div class="ff-field ff-checkbox" data-field="{{ field.name }}">
      <div class="ff-option">
        {{ field(value='true', required=required, aria_describedby=described) }}
        {{ field.label() }}{% if required %}<span class="ff-required-mark"> *</span>{% endif %}
      </div>
      {% if field.description %}
        <p class="ff-help" id="{{ help_id }}">{{ field.description }}</p>
      {% endif %}
    </div>
  {% else %}
    <div class="ff-field ff-text" data-field="{{ field.name }}">
      {{ field.label() }}{% if required %}<span class="ff-required-mark"> *</span>{% endif %}
      {% if field.description %}
        <p class="ff-help" id="{{ help_id }}">{{ field.description }}</p>
      {% endif %}
      {{ field(required=required, aria_describedby=described, **kwargs) }}
    </div>
  {% endif %}
{% endmacro %}
""",
    "person.html": """{% extends "base.html" %}
{% from "_fields.html" import render_field %}
{% block title %}Antrag und Person – Antrag auf Mitgliedschaft{% endblock %}
{% block content %}
  <p class="ff-form-title">Antrag auf Mitgliedschaft</p>
  <nav class="ff-progress" aria-labelledby="progress">
    <p id="progress">Schritt 1 von 3</p>
    <ol class="ff-steps"><li aria-current="step">Antrag und Person</li>
      <li>Adresse und Kontakt</li><li>Mitarbeit</li></ol>
  </nav>
  <h1 id="step-title">Antrag und Person</h1>
  <p class="ff-required-note">Mit * markierte Felder sind Pflichtfelder.</p>
  <form id="step-form" class="ff-form" method="post" novalidate action="/step/person">
    {{ form.csrf_token }}
    <section data-step="person" aria-labelledby="step-title">
      <div class="ff-paragraph" id="field-request_text">
        <p>Hiermit beantrage ich die Aufnahme als Mitglied der Allianz Vielfältige
          Demokratie.</p>
      </div>
      {{ render_field(form.request, required=True) }}
      {{ render_field(form.name, required=True, maxlength=120, autocomplete='name') }}
      {{ render_field(form.institution, maxlength=200, autocomplete='organization') }}
      {{ render_field(form.function, maxlength=120, autocomplete='organization-title') }}
    </section>
    <div class="ff-hp" aria-hidden="true">
      <label for="ff-hp-field">Dieses Feld bitte leer lassen</label>
      <input type="text" id="ff-hp-field" name="_homepage" value="" tabindex="-1"
             autocomplete="off">
    </div>
    <div class="ff-actions">
      <button type="submit" class="ff-button" id="next" name="_action"
              value="next">Weiter</button>
      <button type="submit" class="ff-link-button" id="save" name="_action"
              value="save">Speichern und später weitermachen</button>
    </div>
  </form>
  <aside class="ff-resume" id="resume" aria-labelledby="resume-title">
    <h2 id="resume-title">Später weitermachen</h2>
    <p>Ihre Angaben werden gespeichert, sobald Sie zum nächsten Schritt gehen. Dann erhalten
      Sie einen Link, mit dem Sie später weitermachen können (30 Tage gültig).</p>
  </aside>
{% endblock %}
{% block scripts %}
  <script src="{{ url_for('static', filename='person.js') }}" defer></script>
{% endblock %}
""",
}


def create_app() -> Flask:
    app = Flask(__name__)
    app.jinja_loader = DictLoader(TEMPLATES)
    app.config.update(SECRET_KEY=os.environ.get("BASELINE_SECRET_KEY", "baseline-only"),
                      WTF_CSRF_FIELD_NAME="_csrf_token")

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers.update(HEADERS)
        return response

    @app.get("/health")
    def health() -> Any:
        return jsonify(status="ok")

    @app.get("/step/person")
    def person() -> Any:
        return render_template("person.html", form=PersonForm())

    return app
