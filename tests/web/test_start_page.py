"""The start page lists the *published* forms, from the services — not files."""

from __future__ import annotations

import re
from typing import Any

import pytest

from engine.services import Database, import_definition
from support.web import Browser, text_of


def test_lists_published_forms_with_title_description_and_start_link(browser: Browser) -> None:
    browser.get("/", headers={"Accept-Language": ""})
    page = browser.page
    assert '<html lang="de">' in page
    for form_id, title in (("membership", "Antrag auf Mitgliedschaft"), ("survey", "Umfrage"),
                           ("contact", "Kontakt")):
        item = re.search(rf'<li id="form-{form_id}".*?</li>', page, re.S)
        assert item, form_id
        assert title in item.group(0)
        assert f'href="/f/{form_id}"' in item.group(0)
        assert "Antrag starten" in item.group(0)
    assert "Eine kurze Umfrage." in page  # the description


def test_english_start_page(browser: Browser) -> None:
    browser.get("/?lang=en")
    assert '<html lang="en">' in browser.page
    assert "Membership application" in browser.page
    assert "Antrag auf Mitgliedschaft" not in browser.page
    assert "Start application" in browser.page
    browser.get("/", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert "Membership application" in browser.page  # remembered, and the browser agrees


def test_browser_language_is_honoured(app: Any) -> None:
    page = app.test_client().get("/", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert "Membership application" in page.get_data(as_text=True)


def test_imported_but_unpublished_forms_are_not_listed(browser: Browser, db: Database) -> None:
    draft_form = {
        "id": "unpublished", "title": {"de": "Noch geheim", "en": "Still secret"},
        "languages": ["de", "en"], "workflow": "review",
        "steps": [{"id": "only", "title": "Nur", "fields": [
            {"id": "x", "type": "text", "label": "X"}]}],
    }
    import_definition(db, draft_form, "form")
    browser.get("/")
    assert "Noch geheim" not in browser.page
    browser.get("/f/unpublished")
    assert browser.status == 404


def test_a_form_in_progress_says_continue(browser: Browser) -> None:
    browser.get("/f/membership")
    browser.step("membership", "person", {"name": "Erika"}, action="save")
    browser.get("/")
    item = re.search(r'<li id="form-membership".*?</li>', browser.page, re.S)
    assert item and "Antrag fortsetzen" in text_of(item.group(0))
    other = re.search(r'<li id="form-contact".*?</li>', browser.page, re.S)
    assert other and "Antrag starten" in text_of(other.group(0))


@pytest.mark.parametrize("path", ["/", "/f/membership/step/person"])
def test_skip_link_and_language_switch(browser: Browser, path: str) -> None:
    browser.get(path)
    page = browser.page
    assert re.search(r'<a class="ff-skip-link" href="#main">Zum Inhalt springen</a>', page)
    assert 'id="main"' in page
    assert re.search(r'<a id="lang-en" href="[^"]*lang=en"[^>]*hreflang="en" lang="en"', page)
    assert re.search(r'<a id="lang-de"[^>]*aria-current="true"', page)
