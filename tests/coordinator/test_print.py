"""A submission's print view and its PDF: labels and history, roles, the PDF's text, a URL
fetcher that loads nothing but the app's static files, and the page without WeasyPrint."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from html import escape
from pathlib import Path

import pytest
from flask import Flask

from engine.services import Database, erase_by_reference, fire_transition, submit
from support.coordinator import (
    ADMIN,
    CONSENT_LABEL,
    COORDINATOR,
    TREASURER,
    Staff,
    answers,
    publish_grant_with_consent,
)
from web.coordinator.pdf import (
    FetchRefused,
    pdf_unavailable,
    render_pdf,
    static_resource,
    static_url_fetcher,
)

STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
PREFIX = "http://localhost/static/"
MISSING_MODULE = "formflow_test_no_such_pdf_module"


@pytest.fixture
def reviewed(db: Database) -> tuple[str, str]:
    """(id, reference) of a submission that was reviewed with a comment."""
    created = submit(db, "grant", answers(summary="Ein Konzert im Park."), "de")
    fire_transition(db, created.id, "reject", actor=COORDINATOR, roles=["coordinator"],
                    comment="Unterlagen fehlen.")
    return created.id, created.reference


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A local TCP port that records whether anyone connected to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(0.5)
    yield server
    server.close()


def _nobody_connected(server: socket.socket) -> bool:
    try:
        connection, _address = server.accept()
    except TimeoutError:
        return True
    connection.close()
    return False


def test_the_print_view_shows_labels_answers_and_history(
    app: Flask, staff: Staff, reviewed: tuple[str, str]
) -> None:
    submission_id, reference = reviewed
    page = staff.client(COORDINATOR).get(f"/inbox/{submission_id}/print?lang=de")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f"<h1>{reference}</h1>" in html
    assert "<dt>Kurzbeschreibung</dt>" in html
    assert "Ein Konzert im Park." in html
    assert "<dt>Thema</dt>" in html and "Kultur" in html  # the option's label, not its id
    assert "Abgelehnt" in html and "Unterlagen fehlen." in html  # the history
    assert 'href="/static/print.css"' in html
    assert "<script" not in html


def test_the_print_view_lists_the_consents_also_once_erased(
    app: Flask, staff: Staff, db: Database
) -> None:
    publish_grant_with_consent(db)
    given = submit(db, "grant", answers(agree=True), "de")
    client = staff.client(COORDINATOR)
    html = client.get(f"/inbox/{given.id}/print?lang=de").get_data(as_text=True)
    assert '<h2 id="consents-heading">Einwilligungen</h2>' in html
    assert f'<blockquote lang="de">{escape(CONSENT_LABEL)}</blockquote>' in html
    assert "(Formularversion 2, Sprache de)" in html
    english = client.get(f"/inbox/{given.id}/print?lang=en").get_data(as_text=True)
    assert "(form version 2, language de)" in english
    page = client.get(f"/inbox/{given.id}?lang=de").get_data(as_text=True)
    assert f'<blockquote lang="de">{escape(CONSENT_LABEL)}</blockquote>' in page  # the same list

    erase_by_reference(db, given.reference, actor=ADMIN, reason="Art. 17")
    html = client.get(f"/inbox/{given.id}/print?lang=de").get_data(as_text=True)
    assert f'<blockquote lang="de">{escape(CONSENT_LABEL)}</blockquote>' in html


def test_the_submission_page_links_to_the_print_view(
    app: Flask, staff: Staff, reviewed: tuple[str, str]
) -> None:
    submission_id, _reference = reviewed
    html = staff.client(COORDINATOR).get(f"/inbox/{submission_id}").get_data(as_text=True)
    assert f'id="print-link" href="/inbox/{submission_id}/print"' in html


@pytest.mark.parametrize("path", ["print", "print.pdf"])
def test_roles_on_the_print_routes(
    app: Flask, staff: Staff, reviewed: tuple[str, str], path: str
) -> None:
    submission_id, _reference = reviewed
    url = f"/inbox/{submission_id}/{path}"
    assert staff.client(TREASURER).get(url).status_code == 403
    assert staff.client().get(url).status_code in (302, 401)
    assert staff.client(COORDINATOR).get(f"/inbox/{'0' * 32}/{path}").status_code == 404
    assert staff.client(COORDINATOR).get(f"/inbox/{'x' * 300}/{path}").status_code == 404


def test_the_pdf_holds_the_reference_and_the_labels(
    app: Flask, staff: Staff, reviewed: tuple[str, str]
) -> None:
    pypdf = pytest.importorskip("pypdf")
    assert pdf_unavailable() is None, "WeasyPrint is part of the test extras"
    submission_id, reference = reviewed
    html = staff.client(ADMIN).get(f"/inbox/{submission_id}/print").get_data(as_text=True)
    assert 'id="pdf-link"' in html
    response = staff.client(ADMIN).get(f"/inbox/{submission_id}/print.pdf?lang=de")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f'filename="{reference}.pdf"' in response.headers["Content-Disposition"]
    reader = pypdf.PdfReader(io.BytesIO(response.get_data()))
    text = " ".join(page.extract_text() for page in reader.pages)
    assert reference in text
    assert "Kurzbeschreibung" in text
    assert "Unterlagen fehlen." in text
    assert "Herunterladen" not in text and "PDF" not in text.replace(reference, "")


def test_the_fetcher_serves_static_files_only() -> None:
    body, mime_type = static_resource(PREFIX + "print.css", PREFIX, STATIC)
    assert body == (STATIC / "print.css").read_bytes()
    assert mime_type == "text/css"
    for url in (
        "https://example.org/tracker.png",
        "file:///etc/passwd",
        "data:text/plain,hello",
        PREFIX + "../__init__.py",
        PREFIX + "%2e%2e/__init__.py",
        PREFIX + "no-such-file.css",
        "http://localhost/inbox/",
        "http://localhost.evil.example/static/print.css",
    ):
        with pytest.raises(FetchRefused):
            static_resource(url, PREFIX, STATIC)


def test_the_fetcher_refuses_an_external_url_before_any_request(
    listener: socket.socket,
) -> None:
    pytest.importorskip("weasyprint")
    port = listener.getsockname()[1]
    fetcher = static_url_fetcher(PREFIX, STATIC)
    with pytest.raises(FetchRefused):
        fetcher.fetch(f"http://127.0.0.1:{port}/image.png")
    assert _nobody_connected(listener)
    css = fetcher.fetch(PREFIX + "print.css")
    assert css.read() == (STATIC / "print.css").read_bytes()


def test_a_pdf_with_an_external_image_loads_nothing(listener: socket.socket) -> None:
    pypdf = pytest.importorskip("pypdf")
    pytest.importorskip("weasyprint")
    port = listener.getsockname()[1]
    html = (f'<html><body><h1>Akte</h1><img src="http://127.0.0.1:{port}/x.png" alt="x">'
            f'<link rel="stylesheet" href="http://127.0.0.1:{port}/x.css"></body></html>')
    pdf = render_pdf(html, base_url="http://localhost/", static_prefix=PREFIX,
                     static_folder=STATIC)
    assert _nobody_connected(listener)
    assert "Akte" in pypdf.PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_without_weasyprint_the_check_says_why() -> None:
    reason = pdf_unavailable(MISSING_MODULE)
    assert reason is not None
    assert MISSING_MODULE in reason and "not installed" in reason


def test_without_weasyprint_the_print_view_works_and_the_button_explains(
    app: Flask, staff: Staff, reviewed: tuple[str, str]
) -> None:
    app.config["PDF_MODULE"] = MISSING_MODULE
    submission_id, _reference = reviewed
    html = staff.client(COORDINATOR).get(f"/inbox/{submission_id}/print?lang=de"
                                         ).get_data(as_text=True)
    assert "<dt>Kurzbeschreibung</dt>" in html
    assert 'id="pdf-link"' not in html
    assert 'id="pdf-missing"' in html
    assert "PDF-Download ist auf diesem Server nicht verfügbar" in html
    assert MISSING_MODULE in html
    response = staff.client(COORDINATOR).get(f"/inbox/{submission_id}/print.pdf?lang=de")
    assert response.status_code == 503
    assert 'id="pdf-missing"' in response.get_data(as_text=True)
