"""CSRF, honeypot, rate and size limits, security headers, error pages, no outside requests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from engine.services import Database, list_submissions
from support.web import Browser, text_of
from web import create_app

PERSON = {"request": "true", "name": "Erika Mustermann"}
ADDRESS = {"email": "erika@example.org"}


def draft_in_session(browser: Browser) -> bool:
    with browser.client.session_transaction() as session:
        return bool(session.get("drafts", {}).get("membership"))


def test_post_without_csrf_token_is_refused(browser: Browser, db: Database) -> None:
    browser.get("/f/membership")
    browser.post("/f/membership/step/person", {**PERSON, "_action": "next"}, csrf=False)
    assert browser.status == 400
    assert "Ihre Sitzung ist abgelaufen" in browser.page
    assert "Traceback" not in browser.page
    assert not draft_in_session(browser)

    browser.get("/f/membership")
    browser.post("/f/membership/step/person", {**PERSON, "_csrf_token": "forged"}, csrf=False)
    assert browser.status == 400
    browser.get("/f/membership")
    browser.post("/f/membership/submit", {}, csrf=False)
    assert browser.status == 400
    assert list_submissions(db) == []


def test_the_json_api_is_not_subject_to_csrf(app: Flask) -> None:
    """The API authenticates with bearer tokens, not cookies: no CSRF token is asked for."""
    response = app.test_client().post(
        "/api/forms/membership/submissions", json={"answers": {}, "language": "de"}
    )
    assert response.status_code == 422
    assert response.is_json and "errors" in response.get_json()


def test_honeypot_filled_is_refused_and_nothing_is_stored(
    browser: Browser, db: Database
) -> None:
    browser.get("/f/membership")
    page = browser.page
    trap = re.search(r'<input[^>]*name="_homepage"[^>]*>', page)
    assert trap and 'tabindex="-1"' in trap.group(0) and 'autocomplete="off"' in trap.group(0)
    assert re.search(r'<div class="ff-hp" aria-hidden="true">', page)

    browser.step("membership", "person", PERSON, _homepage="https://spam.example")
    assert browser.status == 400
    assert not draft_in_session(browser)

    browser.get("/f/membership")
    browser.step("membership", "person", PERSON)
    browser.step("membership", "address", ADDRESS)
    browser.step("membership", "participation", {})
    assert browser.path == "/f/membership/review"
    browser.submit("membership", _homepage="spam")
    assert browser.status == 400
    assert list_submissions(db) == []
    browser.get("/f/membership/review")
    browser.submit("membership", _homepage="")  # a person leaves it empty: that works
    assert browser.path == "/f/membership/confirmation"
    assert len(list_submissions(db)) == 1


class TestRateLimit:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "RATELIMIT_APPLICANT_POSTS": "3 per minute"}

    def test_too_many_posts_get_a_friendly_429_page(self, browser: Browser) -> None:
        browser.get("/f/membership")
        for left in (2, 1, 0):
            browser.step("membership", "person", {"name": "x"})  # errors: the page again
            assert browser.status == 422
            assert browser.response is not None  # the limiter's headers, under the limit too
            assert browser.response.headers["X-RateLimit-Limit"] == "3"
            assert browser.response.headers["X-RateLimit-Remaining"] == str(left)
        browser.get("/f/membership/step/person")  # reading is not limited
        assert browser.status == 200
        assert browser.response is not None and "X-RateLimit-Limit" not in browser.response.headers
        browser.step("membership", "person", {"name": "x"})
        assert browser.status == 429
        assert "Zu viele Anfragen" in browser.page
        assert "Traceback" not in browser.page
        assert browser.response is not None and browser.response.headers.get("Retry-After")


class TestBodySize:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "MAX_CONTENT_LENGTH": 4096}

    def test_a_too_large_body_gets_a_413_page(self, browser: Browser) -> None:
        browser.get("/f/membership")
        browser.step("membership", "person", {"name": "x" * 10_000})
        assert browser.status == 413
        assert "Zu viele Daten" in browser.page
        assert not draft_in_session(browser)


def test_default_body_limit_is_set(app: Flask) -> None:
    assert 0 < app.config["MAX_CONTENT_LENGTH"] <= 1024 * 1024


@pytest.mark.parametrize("path", ["/", "/f/membership/step/person", "/does-not-exist"])
def test_security_headers(browser: Browser, path: str) -> None:
    response = browser.get(path)
    csp = response.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert response.headers["X-Frame-Options"] == "DENY"


def test_applicant_pages_are_not_cached(browser: Browser) -> None:
    response = browser.get("/f/membership/step/person")
    assert response.headers["Cache-Control"] == "no-store"


def visit_everything(browser: Browser, db: Database) -> dict[str, str]:
    """Every kind of page an applicant can see, by path."""
    pages: dict[str, str] = {}

    def keep() -> None:
        pages[f"{browser.path} ({browser.status})"] = browser.page

    for path in ("/", "/?lang=en", "/f/membership", "/f/survey", "/nowhere", "/f/nope",
                 "/status/unknown", "/resume/unknown"):
        browser.get(path)
        keep()
    browser.get("/f/membership")
    browser.step("membership", "person", {})
    keep()
    browser.step("membership", "person", PERSON)
    keep()
    browser.step("membership", "address", ADDRESS, action="save")
    keep()
    browser.get("/f/membership/step/address")
    browser.step("membership", "address", ADDRESS)
    keep()
    browser.step("membership", "participation", {"topic": "kompetenz", "topic_consent": "true"})
    keep()
    browser.submit("membership")
    keep()
    status = re.search(r'id="status-link" href="([^"]+)"', browser.page)
    assert status
    browser.get(status.group(1))
    keep()
    return pages


def test_no_page_refers_to_another_origin(browser: Browser, db: Database) -> None:
    for name, page in visit_everything(browser, db).items():
        # the step pages carry the validation messages as data, and one tells applicants to
        # type "https://": words, not a reference
        page = re.sub(r'<script type="application/json" id="formflow-messages">.*?</script>',
                      "", page, flags=re.S)
        for url in re.findall(r"https?://[^\s\"'<>]+", page):
            assert url.startswith("http://localhost/"), f"{name} refers to {url}"


def test_no_inline_code_or_styles(browser: Browser, db: Database) -> None:
    """What the CSP would block must not be there in the first place."""
    for name, page in visit_everything(browser, db).items():
        for script in re.findall(r"<script\b[^>]*>", page):
            assert 'type="application/json"' in script or re.search(
                r'src="(/static/[^"]+|/f/[a-z0-9_-]+/definition/[0-9a-f]{64}\.js)"', script
            ), f"{name}: {script}"  # same-origin files only: the app's own, a form's definition
        for script in re.findall(r"<script\b[^>]*\bsrc=[^>]*>(.*?)</script>", page, re.S):
            assert script.strip() == ""
        assert "<style" not in page, name
        assert not re.search(r"\sstyle=", page), name
        assert not re.search(r"\son[a-z]+=", page), name
        assert '<html lang="' in page and 'class="ff-skip-link" href="#main"' in page, name


def test_404_page_in_the_page_language(browser: Browser) -> None:
    browser.get("/no/such/page")
    assert browser.status == 404
    assert "Seite nicht gefunden" in browser.page
    browser.get("/no/such/page?lang=en")
    assert browser.status == 404
    assert "Page not found" in browser.page and '<html lang="en">' in browser.page
    browser.get("/f/no-such-form")
    assert browser.status == 404
    browser.get("/f/membership/step/no_such_step")
    assert browser.status == 404


def test_500_page_without_stack_trace(app: Flask) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/explode")
    def explode() -> str:
        raise RuntimeError("secret detail: /srv/formflow/settings.py line 42")

    response = app.test_client().get("/explode")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Etwas ist schiefgegangen" in page
    assert "secret detail" not in page and "Traceback" not in page
    assert "RuntimeError" not in page


def test_503_page_when_the_database_is_not_usable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FORMFLOW_DATABASE_URL", raising=False)
    empty = tmp_path / "empty.sqlite3"  # no schema: every query fails
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                      "DATABASE_URL": f"sqlite:///{empty}", "RATELIMIT_STORAGE_URI": "memory://"})
    for path in ("/", "/f/membership", "/status/x"):
        response = app.test_client().get(path)
        assert response.status_code == 503, path
        page = response.get_data(as_text=True)
        assert "Dienst vorübergehend nicht erreichbar" in text_of(page)
        assert "formflow init" not in page and "Traceback" not in page
        assert response.headers["Retry-After"]


def test_element_ids_are_unique_on_every_page(browser: Browser, db: Database) -> None:
    """Labels, error links and browser tests rely on ids naming exactly one element."""
    for name, page in visit_everything(browser, db).items():
        ids = re.findall(r'\sid="([^"]+)"', page)
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        assert duplicates == [], f"{name}: {duplicates}"
        for target in re.findall(r'\sfor="([^"]+)"', page):
            assert target in ids, f"{name}: label for missing id {target}"
