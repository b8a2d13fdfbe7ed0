"""The definition the live rules run on: a per-version file the browser keeps, not page text."""

from __future__ import annotations

import copy
import json
import re

from flask import Flask

from engine.services import import_definition, publish_form
from support.web import SURVEY, Browser
from web.db import get_db

SCRIPT = re.compile(r'<script src="(/f/survey/definition/([0-9a-f]{64})\.js)" defer></script>')


def _named_script(browser: Browser) -> tuple[str, str]:
    browser.get("/f/survey/step/basics")
    found = SCRIPT.search(browser.page)
    assert found, "the step page names no definition file"
    assert f'data-definition="{found.group(2)}"' in browser.page
    return found.group(1), found.group(2)


def _registered(body: str) -> tuple[str, object]:
    prefix = "(self.FormflowDefinitions = self.FormflowDefinitions || {})[\""
    assert body.startswith(prefix) and body.endswith(";\n")
    key, _, data = body[len(prefix):-2].partition('"] = ')
    return key, json.loads(data)


def test_the_file_is_kept_by_the_browser_and_registers_the_definition(browser: Browser) -> None:
    url, content_hash = _named_script(browser)
    response = browser.client.get(url)
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert _registered(response.get_data(as_text=True)) == (content_hash, SURVEY)


def test_pages_no_longer_carry_the_definition(browser: Browser) -> None:
    _named_script(browser)
    assert "formflow-definition" not in browser.page
    # What the page carries besides its markup is the live messages' catalogue (the same for
    # every form); without it the page is far smaller than the definition it no longer holds.
    catalogue = re.search(r'<script type="application/json" id="formflow-messages">.*?</script>',
                          browser.page, re.DOTALL)
    assert catalogue is not None
    markup = browser.page.replace(catalogue.group(0), "")
    assert len(markup) < len(json.dumps(SURVEY)) + 6_000


def test_a_page_rendered_before_a_publish_still_gets_its_version(
    app: Flask, browser: Browser
) -> None:
    old_url, old_hash = _named_script(browser)
    db = get_db(app)  # the app's own: its pages see the publish at once
    changed = copy.deepcopy(SURVEY)
    changed["title"] = {"de": "Umfrage, neu", "en": "Survey, new"}
    import_definition(db, changed, "form")
    publish_form(db, "survey")

    new_url, new_hash = _named_script(browser)
    assert new_hash != old_hash
    assert _registered(browser.client.get(new_url).get_data(as_text=True)) == (new_hash, changed)
    assert _registered(browser.client.get(old_url).get_data(as_text=True)) == (old_hash, SURVEY)


def test_unknown_hashes_and_forms_are_not_found(browser: Browser) -> None:
    url, content_hash = _named_script(browser)
    assert browser.client.get(url.replace(content_hash, "0" * 64)).status_code == 404
    assert browser.client.get(url.replace(content_hash, "not-a-hash")).status_code == 404
    other = f"/f/membership/definition/{content_hash}.js"  # survey's hash, another form
    assert browser.client.get(other).status_code == 404
    assert browser.client.get(f"/f/no-such-form/definition/{content_hash}.js").status_code == 404
