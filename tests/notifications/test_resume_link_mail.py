"""An applicant who saves for later gets the resume link by mail: from the step page through
the outbox and a real ``formflow worker`` to the SMTP sink, and the mailed link opens the
draft in another browser."""

from __future__ import annotations

import re
from collections.abc import Callable
from email.message import EmailMessage

from flask import Flask
from flask.testing import FlaskClient

from engine.services import Database, notifications_with_status
from support.notifications import BASE_URL, MailSink, WorkerProcess, wait_for

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')
TOKEN = r"/resume/([A-Za-z0-9_-]{43})"
LINK = re.compile(re.escape(BASE_URL) + TOKEN)
"""The link in a mail: on the configured BASE_URL."""
SHOWN = re.compile(TOKEN)
"""The link on a page: on the host the request came to."""


def save_for_later(client: FlaskClient, answers: dict[str, str], language: str = "de") -> str:
    """Open the form's step, fill it in, press "save and continue later"; the page shown."""
    page = client.get(f"/f/signup/step/person?lang={language}").get_data(as_text=True)
    token = CSRF.search(page)
    assert token, "no CSRF token on the step page"
    response = client.post("/f/signup/step/person", data={
        **answers, "_action": "save", "_csrf_token": token.group(1)}, follow_redirects=True)
    assert response.status_code == 200
    assert response.request.path == "/f/signup/saved"
    return response.get_data(as_text=True)


def plain_text(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def draft_mails(db: Database) -> int:
    statuses = ["pending", "enqueued", "sent", "failed"]
    return sum(1 for r in notifications_with_status(db, statuses, limit=1000) if r.draft_id)


def test_the_resume_link_is_mailed_once_and_opens_the_draft(
    app: Flask, db: Database, mail_sink: MailSink, start_worker: Callable[..., WorkerProcess],
) -> None:
    worker = start_worker()
    client = app.test_client()
    page = save_for_later(client, {"name": "Ada", "email": "ada@example.org"})
    assert "Wir schicken Ihnen den Link außerdem an ada@example.org." in page
    shown = SHOWN.search(page)
    assert shown, "the saved page shows the link"

    wait_for(lambda: mail_sink.to("ada@example.org") or not worker.alive(), timeout=60,
             what="the resume-link mail")
    [mail] = mail_sink.to("ada@example.org")
    assert mail["Subject"] == "Ihr Link zum Weitermachen: Anmeldung"
    text = plain_text(mail)
    mailed = LINK.search(text)
    assert mailed and mailed.group(1) == shown.group(1), "the mail carries the same link"
    assert "gilt bis zum" in text
    html = mail.get_body(("html",))
    assert html is not None and f'<a href="{mailed.group(0)}">' in str(html.get_content())

    # The link from the mail opens the draft in a browser that never saw the form.
    elsewhere = app.test_client()
    opened = elsewhere.get(f"/resume/{mailed.group(1)}", follow_redirects=True)
    assert opened.request.path == "/f/signup/step/person"
    assert 'value="Ada"' in opened.get_data(as_text=True)

    # Saving again sends nothing more; the page still says where the link went.
    again = save_for_later(client, {"name": "Ada L.", "email": "ada@example.org"})
    assert "ada@example.org" in again
    assert draft_mails(db) == 1
    assert worker.alive(), worker.output()


def test_english_applicants_get_an_english_mail_and_no_address_means_no_mail(
    app: Flask, db: Database, mail_sink: MailSink, start_worker: Callable[..., WorkerProcess],
) -> None:
    worker = start_worker()
    page = save_for_later(app.test_client(), {"name": "Bo"}, language="en")
    assert 'id="resume-mailed"' not in page, "nothing was mailed: there is no address"
    assert SHOWN.search(page), "the link is still shown on the page"
    assert draft_mails(db) == 0

    save_for_later(app.test_client(), {"name": "Cy", "email": "cy@example.org"}, language="en")
    wait_for(lambda: mail_sink.to("cy@example.org") or not worker.alive(), timeout=60,
             what="the English resume-link mail")
    [mail] = mail_sink.to("cy@example.org")
    assert mail["Subject"] == "Your link to continue: Sign-up"
    assert "works until" in plain_text(mail)


def test_a_link_that_cannot_be_rebuilt_fails_visibly_instead_of_mailing_a_dead_link(
    app: Flask, db: Database, mail_sink: MailSink, start_worker: Callable[..., WorkerProcess],
) -> None:
    # The worker runs under another secret key than the web app that made the draft.
    worker = start_worker(FORMFLOW_SECRET_KEY="a-rotated-secret-key-0123456789abcdef")
    save_for_later(app.test_client(), {"name": "Di", "email": "di@example.org"})
    [row] = [r for r in notifications_with_status(db, ["pending", "enqueued"]) if r.draft_id]

    def failed() -> bool:
        return any(r.id == row.id for r in notifications_with_status(db, ["failed"]))

    wait_for(lambda: failed() or not worker.alive(), timeout=60, what="the row to fail")
    [gone] = [r for r in notifications_with_status(db, ["failed"]) if r.id == row.id]
    assert "resume link cannot be rebuilt" in (gone.last_error or "")
    assert gone.attempts == 1, "a permanent failure: no retries"
    assert mail_sink.to("di@example.org") == []
