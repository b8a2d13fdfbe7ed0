"""Embedding the applicant pages (issue 17): ``FORMFLOW_EMBED_ORIGINS`` lets those origins frame
the applicant pages and nothing else; the applicant's session then lives in its own cookie,
``SameSite=None; Secure`` over HTTPS, while the staff cookie stays ``Lax``."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from support.signin import csrf_field
from web import create_app
from web.config import ConfigError
from web.embedding import APPLICANT_COOKIE, is_applicant_page, parse_origins

PERSON = {"request": "true", "name": "Erika Mustermann", "institution": "Stadt Musterstadt",
          "function": "Referentin", "_action": "next"}
HTTPS = "https://forms.example.org"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "EMBED_ORIGINS": ("https://verein.example", "https://*.bund.example"),
            "BASE_URL": HTTPS}


def _cookies(response: TestResponse) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.getlist("Set-Cookie")}


def _ancestors(response: TestResponse) -> str:
    found = re.search(r"frame-ancestors ([^;]+)", response.headers["Content-Security-Policy"])
    assert found
    return found.group(1)


def test_applicant_pages_may_be_framed_by_the_listed_origins_only(app: Flask) -> None:
    client = app.test_client()
    for path in ("/", "/f/membership/step/person"):
        page = client.get(path, base_url=HTTPS)
        assert page.status_code == 200, path
        assert _ancestors(page) == "'self' https://verein.example https://*.bund.example"
        assert "X-Frame-Options" not in page.headers
    for path in ("/login", "/inbox", "/admin/forms", "/api/forms", "/schemas/form.json"):
        other = client.get(path, base_url=HTTPS)
        assert _ancestors(other) == "'none'", path
        assert other.headers["X-Frame-Options"] == "DENY", path


def test_the_applicant_cookie_is_cross_site_and_the_staff_cookie_stays_lax(app: Flask) -> None:
    client = app.test_client()
    page = client.get("/f/membership/step/person", base_url=HTTPS)
    applicant = _cookies(page)[APPLICANT_COOKIE]
    assert "SameSite=None" in applicant and "Secure" in applicant and "HttpOnly" in applicant
    login = client.get("/login", base_url=HTTPS)
    staff = _cookies(login)
    assert APPLICANT_COOKIE not in staff
    cookie = staff[app.config.get("SESSION_COOKIE_NAME", "session")]
    assert "SameSite=Lax" in cookie


def test_a_framed_applicant_goes_from_step_to_step(app: Flask) -> None:
    """The CSRF token and the draft live in the applicant cookie: a step posts and goes on."""
    client = app.test_client()
    page = client.get("/f/membership/step/person", base_url=HTTPS).get_data(as_text=True)
    # (Flask-WTF checks the referrer of HTTPS posts: inside the frame it is the page itself)
    sent = client.post("/f/membership/step/person", base_url=HTTPS,
                       data={**PERSON, **csrf_field(page)},
                       headers={"Referer": f"{HTTPS}/f/membership/step/person"})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:500]
    assert sent.headers["Location"].endswith("/f/membership/step/address")


def test_without_https_the_applicant_cookie_stays_lax(app_config: dict[str, Any]) -> None:
    app = create_app({**app_config, "BASE_URL": "http://127.0.0.1:5000"})
    page = app.test_client().get("/f/membership/step/person")
    applicant = _cookies(page)[APPLICANT_COOKIE]
    assert "SameSite=Lax" in applicant and "Secure" not in applicant
    assert _ancestors(page) == "'self' https://verein.example https://*.bund.example"


def test_without_the_setting_nothing_is_framed_and_one_cookie_serves(
    app_config: dict[str, Any]
) -> None:
    app = create_app({**app_config, "EMBED_ORIGINS": ()})
    page = app.test_client().get("/f/membership/step/person", base_url=HTTPS)
    assert _ancestors(page) == "'none'" and page.headers["X-Frame-Options"] == "DENY"
    assert APPLICANT_COOKIE not in _cookies(page)


def test_origins_are_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_origins(" https://a.example/, http://localhost:8080 ,") == (
        "https://a.example", "http://localhost:8080")
    for bad in ("verein.example", "https://a.example/path", "https://a.example; script-src *",
                "'none'", "*", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            parse_origins(bad)
    monkeypatch.setenv("FORMFLOW_EMBED_ORIGINS", "https://a.example 'unsafe-inline'")
    with pytest.raises(ConfigError, match="FORMFLOW_EMBED_ORIGINS"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_every_applicant_route_counts_as_an_applicant_page(app: Flask) -> None:
    rules = [r.rule for r in app.url_map.iter_rules() if r.endpoint.startswith("applicant.")]
    assert len(rules) > 8
    assert [r for r in rules if not is_applicant_page(r)] == []
    staff = [r.rule for r in app.url_map.iter_rules()
             if not r.endpoint.startswith(("applicant.", "static"))]
    assert [r for r in staff if is_applicant_page(r)] == []
