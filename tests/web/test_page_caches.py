"""What the pages keep between requests gives exactly what it stands for: the long dates of
``web.i18n.long_date`` are Flask-Babel's, the templates' ``url_for`` builds Flask's URLs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask_babel import format_date

from web.i18n import long_date
from web.urls import external_token_url, path_with_value, template_url_for


@pytest.mark.parametrize("language", ["de", "en"])
def test_long_dates_are_flask_babels_around_midnight_and_dst(
    app: Flask, language: str
) -> None:
    # Every 20 minutes across both 2027 DST changes and a few local midnights (Europe/Berlin).
    instants = [start + timedelta(minutes=20 * i)
                for start in (datetime(2027, 3, 27, 20, tzinfo=UTC),
                              datetime(2027, 10, 30, 20, tzinfo=UTC))
                for i in range(3 * 24 * 3)]
    with app.test_request_context(f"/?lang={language}"):
        for instant in instants:
            for value in (instant, instant.replace(tzinfo=None), instant.date()):
                assert long_date(value) == format_date(value, "long"), value
        assert long_date(date(2030, 1, 15)) == {"de": "15. Januar 2030",
                                                "en": "January 15, 2030"}[language]


def test_the_templates_url_for_is_flasks(app: Flask) -> None:
    calls: list[tuple[str, dict[str, Any]]] = [
        ("static", {"filename": "formflow.css"}),
        ("static", {"filename": "a b/ü.js"}),
        ("applicant.start", {}),
        ("applicant.step", {"form_id": "membership", "step_id": "participation"}),
        ("applicant.step", {"form_id": "membership", "step_id": "person", "return": "review"}),
        ("applicant.step", {"form_id": "m", "step_id": "s", "_anchor": "field-x"}),
        ("applicant.resume_draft", {"token": "abc", "_external": True}),
        ("applicant.begin", {"form_id": 7}),
        ("applicant.begin", {"form_id": "x", "flag": True}),
    ]
    for root in ("", "/forms"):
        with app.test_request_context("/", base_url=f"http://example.org{root}"):
            for _ in range(2):  # built, then kept
                for endpoint, values in calls:
                    assert template_url_for(endpoint, **values) == app.url_for(
                        endpoint, **values
                    ), (root, endpoint, values)
            assert template_url_for("static", filename="x.css") == f"{root}/static/x.css"
    app.config["SERVER_NAME"] = "example.org"
    with app.app_context():  # outside a request: Flask's external URLs
        assert template_url_for("applicant.start") == app.url_for("applicant.start")


def test_links_with_one_value_are_flasks(app: Flask) -> None:
    values = ["abc", "Zx_9-", "a b", "ä", "x/y", "1" * 40]
    for base in ("http://example.org", "https://example.org:8443/forms"):
        with app.test_request_context("/", base_url=base):
            root = app.url_for("applicant.start").removesuffix("/")
            for _ in range(2):  # built, then kept
                for value in values:
                    assert external_token_url("applicant.resume_draft", "token", value) == (
                        app.url_for("applicant.resume_draft", token=value, _external=True)
                    ), (base, value)
                    assert root + path_with_value("api.read_submission", "id", value) == (
                        app.url_for("api.read_submission", id=value)
                    ), (base, value)
