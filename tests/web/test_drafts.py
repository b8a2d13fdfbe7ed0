"""Save and resume: the draft behind every step, the secret link, expiry, new form versions."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from engine.services import Database, import_definition, list_submissions, publish_form
from support.web import Browser, element, text_of
from web import create_app
from web.config import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PERSON = {"request": "true", "name": "Erika Mustermann", "institution": "Stadt Musterstadt",
          "function": "Referentin"}


def resume_link(page: str) -> str:
    found = re.search(r'id="resume-link" href="([^"]+)"', page)
    assert found, "the page shows a resume link"
    return found.group(1)


def test_resume_link_continues_in_another_browser(
    browser: Browser, other_browser: Browser, db: Database
) -> None:
    browser.get("/f/membership")
    assert 'id="resume-link"' not in browser.page  # nothing saved yet, nothing to resume
    browser.step("membership", "person", PERSON)
    link = resume_link(browser.page)
    assert re.fullmatch(r"http://localhost/resume/[A-Za-z0-9_-]{20,}", link)
    assert element(browser.page, "resume-expires")

    other_browser.get(link)
    assert other_browser.path == "/f/membership/step/address"  # where the draft left off
    other_browser.get("/f/membership/step/person")
    assert 'value="Erika Mustermann"' in other_browser.page
    assert "checked" in element(other_browser.page, "field-request")

    other_browser.step("membership", "address", {"email": "erika@example.org"})
    other_browser.step("membership", "participation", {})
    other_browser.submit("membership")
    assert other_browser.path == "/f/membership/confirmation"
    [submission] = list_submissions(db, form_id="membership")
    assert submission.answers["name"] == "Erika Mustermann"

    # the submitted draft is gone: its link no longer works, the first browser starts afresh
    browser.get(link)
    assert browser.status == 404
    browser.get("/f/membership/step/person")
    assert 'value="Erika Mustermann"' not in browser.page


def test_save_and_continue_later(browser: Browser) -> None:
    browser.get("/f/membership")
    browser.step("membership", "person", {"name": "Halb fertig"}, action="save")
    assert browser.path == "/f/membership/saved"
    assert "Ihre Angaben sind gespeichert" in browser.page
    assert resume_link(browser.page).startswith("http://localhost/resume/")
    assert 'id="error-summary"' not in browser.page  # saving never validates
    browser.get(re.search(r'id="continue" href="([^"]+)"', browser.page).group(1))
    assert browser.path == "/f/membership/step/person"
    assert 'value="Halb fertig"' in browser.page


def test_resume_keeps_the_language_of_the_draft(
    browser: Browser, other_browser: Browser
) -> None:
    browser.get("/f/membership?lang=en")
    browser.step("membership", "person", PERSON)
    other_browser.get(resume_link(browser.page))
    assert '<html lang="en">' in other_browser.page
    assert "Step 2 of 3" in text_of(other_browser.page)


def test_unknown_resume_link_is_a_404_page(browser: Browser) -> None:
    browser.get("/resume/no-such-draft")
    assert browser.status == 404
    assert "Seite nicht gefunden" in browser.page


class TestExpiredDrafts:
    @pytest.fixture
    def app_config(self, app_config: dict[str, Any]) -> dict[str, Any]:
        return {**app_config, "DRAFT_DAYS": 0}  # every draft is expired at once

    def test_an_expired_draft_shows_a_clear_page(self, browser: Browser) -> None:
        browser.get("/f/membership")
        browser.step("membership", "person", PERSON)
        assert browser.status == 410  # the draft expired before the next page could load it
        assert "Dieser Link ist abgelaufen" in browser.page
        assert "0 Tage" in browser.page
        assert "Traceback" not in browser.page
        browser.get("/f/membership")  # starting again works: a fresh, empty form
        assert browser.status == 200 and browser.path == "/f/membership/step/person"
        assert 'value="Erika Mustermann"' not in browser.page

    def test_expired_link_in_another_browser(
        self, browser: Browser, other_browser: Browser
    ) -> None:
        browser.get("/f/membership")
        response = browser.client.post(
            "/f/membership/step/person",
            data={**PERSON, "_action": "save", "_csrf_token": browser.csrf_token()},
        )
        assert response.status_code == 302
        with browser.client.session_transaction() as session:
            token = session["drafts"]["membership"]
        other_browser.get(f"/resume/{token}")
        assert other_browser.status == 410
        assert "Dieser Link ist abgelaufen" in other_browser.page
        assert "Bitte füllen Sie das Formular neu aus." in other_browser.page
        other_browser.get(f"/resume/{token}")  # deleted by the first visit: unknown now
        assert other_browser.status == 404


def test_draft_lifetime_must_be_a_number(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="FORMFLOW_DRAFT_DAYS"):
        create_app({"INSTANCE_PATH": str(tmp_path), "DRAFT_DAYS": "soon"})
    with pytest.raises(ConfigError, match="FORMFLOW_DRAFT_DAYS"):
        create_app({"INSTANCE_PATH": str(tmp_path), "DRAFT_DAYS": -1})


def test_draft_lifetime_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FORMFLOW_DRAFT_DAYS", "7")
    app = create_app({"INSTANCE_PATH": str(tmp_path)})
    assert app.config["DRAFT_DAYS"] == 7


def test_new_form_version_carries_answers_over_and_says_so(
    browser: Browser, db: Database
) -> None:
    browser.get("/f/membership")
    browser.step("membership", "person", PERSON)
    browser.step("membership", "address", {"town": "Berlin"}, action="back")

    changed = json.loads((PROJECT_ROOT / "forms" / "membership.json").read_text("utf-8"))
    changed = copy.deepcopy(changed)
    person = changed["steps"][0]
    person["fields"] = [f for f in person["fields"] if f["id"] != "function"]
    import_definition(db, changed, "form")
    publish_form(db, "membership")

    browser.get("/f/membership/step/person")
    page = browser.page
    notice = element(page, "form-changed")
    assert 'role="status"' in notice
    words = text_of(page)
    assert "Dieses Formular wurde geändert" in words
    assert "Einige Fragen gibt es nicht mehr" in words  # "function" was answered and is gone
    assert 'value="Erika Mustermann"' in page
    assert 'name="function"' not in page

    browser.step("membership", "person", {k: v for k, v in PERSON.items() if k != "function"})
    assert browser.path == "/f/membership/step/address"
    assert 'value="Berlin"' in browser.page
    assert 'id="form-changed"' not in browser.page  # said once; the draft is on the new version
