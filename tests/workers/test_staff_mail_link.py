"""The shipped review workflow's mails: the staff mail links to the submission's page, and a
transition's internal note never reaches the applicant's mail (real SQLite, real SMTP sink)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from engine.services import (
    Database,
    create_user,
    fire_transition,
    import_definition,
    notifications_for,
    publish_form,
    publish_workflow,
    submit,
)
from support.notifications import MailSink
from workers.jobs import NotificationSettings, configure, deliver

ROOT = Path(__file__).resolve().parents[2]
BASE_URL = "https://formulare.verein.example/app"


@pytest.fixture
def sink() -> Iterator[MailSink]:
    server = MailSink()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def db(tmp_path: Path, sink: MailSink) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'formflow.sqlite3'}")
    database.upgrade()
    import_definition(database, json.loads((ROOT / "workflows/review.json").read_text()),
                      "workflow")
    publish_workflow(database, "review")
    import_definition(database, json.loads((ROOT / "forms/contact.json").read_text()), "form")
    publish_form(database, "contact")
    create_user(database, "coord@example.org", ["coordinator"])
    settings = NotificationSettings.from_environ(
        {"FORMFLOW_SMTP_URL": sink.url, "FORMFLOW_MAIL_FROM": "formflow@verein.example"},
        database_url=str(database.url), instance_path=str(tmp_path / "instance"),
        base_url=BASE_URL + "/",
    )
    configure(settings)
    try:
        yield database
    finally:
        configure(None)
        database.dispose()


def _answers() -> dict[str, object]:
    form = json.loads((ROOT / "forms/contact.json").read_text())
    fields = {f["id"]: f for step in form["steps"] for f in step["fields"]}
    values: dict[str, object] = {}
    for field_id, found in fields.items():
        if found.get("type") == "email":
            values[field_id] = "joerg@example.org"
        elif found.get("required") and found.get("type") in ("text", "textarea"):
            values[field_id] = "Jörg Müller"
        elif found.get("required") and found.get("options"):
            values[field_id] = found["options"][0]["value"]
        elif found.get("required") and found.get("type") == "checkbox":
            values[field_id] = True
    return values


def _body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def test_the_new_submission_mail_links_to_the_submission(db: Database, sink: MailSink) -> None:
    created = submit(db, "contact", _answers(), "de")
    for row in notifications_for(db, created.id):
        deliver(row.delivery_id)
    (staff_mail,) = sink.to("coord@example.org")
    assert created.reference in str(staff_mail["Subject"])
    assert f"{BASE_URL}/inbox/{created.id}" in _body(staff_mail)


def test_the_applicant_mail_has_the_comment_never_the_note(db: Database, sink: MailSink) -> None:
    created = submit(db, "contact", _answers(), "de")
    fire_transition(db, created.id, "reject", actor="coord@example.org", roles=["coordinator"],
                    comment="Leider fehlt der Nachweis.", note="INTERN: Prüfer war unsicher")
    rows = [r for r in notifications_for(db, created.id) if r.template == "rejected"]
    assert len(rows) == 1
    deliver(rows[0].delivery_id)
    (mail,) = [m for m in sink.to("joerg@example.org") if "Leider" in _body(m)]
    assert "Leider fehlt der Nachweis." in _body(mail)
    everything = "".join(str(m) for m in sink.messages())
    assert "INTERN" not in everything and "unsicher" not in everything
