"""File fields on the applicant pages without JavaScript: upload with the step, refused by
content, size and count with a message and nothing stored, kept in the draft, removable,
shown with name and size on review and status, and handed to the submission."""

from __future__ import annotations

import io
import re
from typing import Any

from engine.services import Database, import_definition, list_submissions, publish_form
from support.web import Browser, element, text_of

PDF = b"%PDF-1.4\n" + b"x" * 3000 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 500
ATTACH: dict[str, Any] = {
    "id": "attach",
    "title": {"de": "Anlagen", "en": "Attachments"},
    "languages": ["de", "en"],
    "steps": [{"id": "files", "title": {"de": "Anlagen", "en": "Attachments"}, "fields": [
        {"id": "plan", "type": "file", "required": True, "accept": ["application/pdf"],
         "max_size": 200_000, "label": {"de": "Finanzierungsplan", "en": "Budget plan"}},
        {"id": "photos", "type": "file", "accept": ["image/png", "image/jpeg"], "max_files": 2,
         "label": {"de": "Fotos", "en": "Photos"}},
        {"id": "why", "type": "text", "label": {"de": "Warum keine Fotos?", "en": "Why?"}},
    ]}],
    "rules": [{"when": {"field": "photos", "op": "is_empty"}, "show": ["why"]}],
}


def _publish(db: Database) -> None:
    import_definition(db, ATTACH, "form")
    publish_form(db, "attach")


def test_upload_keep_remove_review_submit_without_javascript(
    browser: Browser, db: Database
) -> None:
    _publish(db)
    browser.get("/f/attach")
    form_tag = element(browser.page, "step-form")
    assert 'enctype="multipart/form-data"' in form_tag
    control = element(browser.page, "field-plan")
    assert 'type="file"' in control and 'accept="application/pdf"' in control
    assert "multiple" in element(browser.page, "field-photos")

    # a file that only claims to be a PDF is refused by its content; nothing is kept
    browser.step("attach", "files", {"plan": (io.BytesIO(b"MZ not a pdf"), "plan.pdf")})
    assert browser.status == 422
    assert "Die Datei „plan.pdf“ hat nicht die erlaubte Art." in text_of(browser.page)
    assert 'name="plan-keep"' not in browser.page

    # a real PDF is kept in the draft; the page lists it with its size
    browser.step("attach", "files", {"plan": (io.BytesIO(PDF), "Finanzplan 2027.pdf"),
                                     "photos": (io.BytesIO(PNG), "foto.png")}, action="save")
    assert browser.path == "/f/attach/saved"
    browser.get("/f/attach/step/files")
    assert "Finanzplan 2027.pdf behalten (3 KB)" in text_of(browser.page)
    kept = re.findall(r'name="plan-keep" value="([0-9a-f]{32})"', browser.page)
    photo = re.findall(r'name="photos-keep" value="([0-9a-f]{32})"', browser.page)
    assert len(kept) == 1 and len(photo) == 1

    # unticking removes the photo; too many photos at once are refused
    browser.step("attach", "files", {
        "plan-keep": kept[0],
        "photos": [(io.BytesIO(PNG), "a.png"), (io.BytesIO(PNG), "b.png"),
                   (io.BytesIO(PNG), "c.png")]})
    assert browser.status == 422
    assert "Bitte laden Sie höchstens 2 Dateien hoch." in text_of(browser.page)
    browser.step("attach", "files", {"plan-keep": kept[0], "why": "keine"})
    assert browser.path == "/f/attach/review"
    review = text_of(browser.page)
    assert "Finanzierungsplan Finanzplan 2027.pdf (3 KB)" in review
    assert "foto.png" not in review
    browser.submit("attach")
    assert browser.path == "/f/attach/confirmation"
    [submission] = list_submissions(db, form_id="attach")
    [ref] = submission.answers["plan"]
    assert ref["id"] == kept[0] and ref["name"] == "Finanzplan 2027.pdf"
    assert ref["size"] == len(PDF) and ref["type"] == "application/pdf"
    with db.read() as store:
        files = store.files.of_submission(submission.id)
        assert [f.id for f in files] == [kept[0]]
        assert b"".join(store.files.chunk(kept[0], seq) or b""
                        for seq in range(files[0].chunks)) == PDF


def test_a_file_over_the_deployment_cap_is_refused(
    browser: Browser, db: Database, app: Any
) -> None:
    _publish(db)
    app.config["MAX_UPLOAD_MB"] = 0.001  # about 1 KB
    browser.get("/f/attach")
    browser.step("attach", "files", {"plan": (io.BytesIO(PDF), "big.pdf")})
    assert browser.status == 422
    assert "Die Datei „big.pdf“ ist zu groß" in text_of(browser.page)
    assert 'name="plan-keep"' not in browser.page


def test_a_body_over_the_submission_cap_is_413_and_json_keeps_its_limit(
    browser: Browser, db: Database, app: Any
) -> None:
    _publish(db)
    app.config["MAX_SUBMISSION_MB"] = 0.01  # about 10 KB
    browser.get("/f/attach")
    browser.step("attach", "files", {"plan": (io.BytesIO(PDF * 10), "big.pdf")})
    assert browser.status == 413
    assert "Zu viele Daten" in browser.page or "Too much data" in browser.page
    # without files the app's usual 1 MiB limit stays, and so it does for a multipart body
    # sent to a form without file fields
    app.config["MAX_SUBMISSION_MB"] = 25
    browser.get("/f/attach")
    response = browser.client.post("/f/attach/step/files", data={"why": "x" * 2_000_000})
    assert response.status_code == 413
    browser.get("/f/survey")
    response = browser.client.post(
        "/f/survey/step/basics", content_type="multipart/form-data",
        data={"kind": "person", "junk": (io.BytesIO(b"x" * 2_000_000), "junk.bin")})
    assert response.status_code == 413
