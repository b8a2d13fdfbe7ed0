"""Issue 15 in Chromium: an administrator erases an applicant's personal data (reason,
confirmation page, tombstone), the applicant downloads "Meine Daten" and later sees the
tombstone, the footer links the Impressum and the Datenschutzerklärung in German and English
— and axe finds nothing serious on the new pages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from engine.services import erase_submission, get_submission
from support.browser import LiveServer, Shots, Watch
from support.browser_staff import ADMIN, add_staff, sign_in, submit_membership
from support.browser_steps import expect

try:
    from axe_playwright_python.sync_playwright import Axe
except ImportError:  # the chromium fixture skips (or fails in CI) before this matters
    Axe = None

NAME = "Roswitha Löschmann"


@pytest.fixture(scope="module", autouse=True)
def staff(live_server: LiveServer) -> None:
    add_staff(live_server)


def _serious(page: Any) -> list[str]:
    assert Axe is not None, "axe-playwright-python is part of the test extra"
    violations = Axe().run(page).response["violations"]
    return [f"{v['id']}: {v['help']}" for v in violations if v["impact"] in ("serious", "critical")]


def test_an_administrator_erases_with_a_reason_after_a_confirmation(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    created = submit_membership(live_server, name=NAME)
    path = f"/inbox/{created.id}"
    sign_in(page, ADMIN, next_path=path)
    page.wait_for_url(f"**{path}")
    expect(page.locator("dd[data-field='name']")).to_have_text(NAME)
    expect(page.locator("#consents")).to_contain_text("Hierfür benötigen wir Ihre Zustimmung")
    assert _serious(page) == []
    page.fill("#erase-reason", "Löschantrag per E-Mail vom 1. Dezember")
    shots(page, "reason typed")
    page.click("#erase-button")
    expect(page.locator("#erase-heading")).to_have_text("Personenbezogene Daten löschen")
    expect(page.locator("#erase-question")).to_contain_text(created.reference)
    assert get_submission(live_server.db, created.id).erased_at is None
    assert _serious(page) == []
    shots(page, "confirmation")
    page.click("#erase-yes")
    page.wait_for_url(f"**{path}")
    expect(page.locator("#erased-notice")).to_be_visible()
    expect(page.locator("#erase-button")).to_have_count(0)
    assert NAME not in page.content()
    expect(page.locator("ol.timeline")).to_contain_text("Personenbezogene Daten gelöscht")
    shots(page, "tombstone")
    assert get_submission(live_server.db, created.id).answers == {}
    watch.assert_clean()


def test_the_applicant_downloads_their_data_then_sees_the_tombstone(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch, tmp_path: Path
) -> None:
    created = submit_membership(live_server, name=NAME)
    page.goto(f"/status/{created.token}")
    link = page.locator("#download-my-data")
    expect(link).to_have_text("Meine Daten herunterladen")
    with page.expect_download() as info:
        link.click()
    target = tmp_path / "meine-daten.json"
    info.value.save_as(target)
    document = json.loads(target.read_text(encoding="utf-8"))
    [entry] = document["submissions"]
    assert entry["reference"] == created.reference
    assert {a["field"]: a["value"] for a in entry["answers"]}["name"] == NAME
    assert entry["consents"][0]["field"] == "topic_consent"
    shots(page, "status page with download")

    erase_submission(live_server.db, created.id, actor=ADMIN, reason="Art. 17")
    page.reload()
    expect(page.locator("#status-erased")).to_contain_text("Ihre Daten wurden gelöscht.")
    expect(page.locator("#download-my-data")).to_have_count(0)
    expect(page.locator("#reference")).to_have_text(created.reference)
    assert _serious(page) == []
    shots(page, "tombstone")
    watch.assert_clean()


@pytest.mark.parametrize(("language", "imprint", "privacy"),
                         [("de", "Impressum", "Datenschutz"), ("en", "Imprint", "Privacy")])
def test_the_footer_links_the_legal_pages(
    page: Any, live_server: LiveServer, language: str, imprint: str, privacy: str
) -> None:
    for path in ("/", "/f/membership", "/login", "/no-such-page"):
        page.goto(f"{path}?lang={language}")
        footer = page.locator("footer#legal-links")
        expect(footer.locator("#imprint-link")).to_have_text(imprint)
        expect(footer.locator("#imprint-link")).to_have_attribute(
            "href", "https://verein.example/impressum")
        expect(footer.locator("#privacy-link")).to_have_text(privacy)
        expect(footer.locator("#privacy-link")).to_have_attribute(
            "href", "https://verein.example/datenschutz")


def test_the_editor_sets_retention_privacy_notice_and_shows_the_consent_switch(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    from engine.services.editing import discard_editor_draft

    discard_editor_draft(live_server.db, "form", "contact")
    try:
        sign_in(page, ADMIN)
        page.goto("/admin/forms/contact/edit")
        expect(page.locator("#form-retention-days")).to_be_visible()
        page.fill("#form-retention-days", "365")
        page.fill("#form-privacy-notice-de", "Wir speichern Ihre Angaben zur Bearbeitung.")
        draft = page.evaluate("() => window.FormflowFormEditor.editor.draft")
        assert draft["retention_days"] == 365
        assert draft["privacy_notice"]["de"] == "Wir speichern Ihre Angaben zur Bearbeitung."
        consent = page.locator("[data-pointer='/steps/0/fields/4/consent'] input[type=checkbox]")
        expect(consent).to_be_checked()
        expect(page.locator("#problem-summary")).to_have_attribute("data-errors", "0")
        shots(page, "editor")
        watch.assert_clean()
    finally:
        discard_editor_draft(live_server.db, "form", "contact")
