"""Personal data in the web app: the staff erasure with its confirmation and reason, the
staff download, the applicant's download and tombstone, the API's tombstone, the audit page
and the Impressum/Datenschutz links on every kind of page — through the real app."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from engine.services import (
    AuditQuery,
    Database,
    audit_entries,
    fire_transition,
    get_submission,
    history,
    submit,
)
from support.coordinator import ADMIN, COORDINATOR, Staff, answers, post_form

NAME = "Hedwig Quellenberg"
ADDRESS = "hedwig.quellenberg@example.org"
NOTE = "Hat am Telefon von ihrer Tochter Ilse erzählt"
IMPRINT = "https://verein.example/impressum"
PRIVACY = "https://verein.example/datenschutz"


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "IMPRINT_URL": IMPRINT, "PRIVACY_URL": PRIVACY}


def _submitted(db: Database) -> Any:
    created = submit(db, "grant", answers(name=NAME, email=ADDRESS), "de")
    fire_transition(db, created.id, "reject", actor=COORDINATOR, roles=["coordinator"],
                    comment="Leider abgelehnt, Frau Quellenberg", note=NOTE)
    return created


def test_an_administrator_erases_after_confirming_with_a_reason(
    app: Flask, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = _submitted(db)
    other = submit(db, "grant", answers(name="Kurt Andermann", email="kurt@example.org"), "de")
    admin = Staff(app).client(ADMIN)
    page_url = f"/inbox/{created.id}"
    page = admin.get(page_url).get_data(as_text=True)
    assert 'id="erase-button"' in page and NAME in page

    missing = post_form(admin, page_url, f"/inbox/{created.id}/erase", {"reason": "  "})
    assert missing.status_code == 422
    assert "Bitte geben Sie den Grund für die Löschung an." in missing.get_data(as_text=True)
    asked = post_form(admin, page_url, f"/inbox/{created.id}/erase",
                      {"reason": "Antrag auf Löschung vom 3. Dezember"})
    assert asked.status_code == 200 and 'id="erase-yes"' in asked.get_data(as_text=True)
    assert get_submission(db, created.id).erased_at is None  # not before the confirmation

    done = post_form(admin, page_url, f"/inbox/{created.id}/erase",
                     {"reason": "Antrag auf Löschung vom 3. Dezember", "confirmed": "1"})
    assert done.status_code == 303
    after = admin.get(page_url).get_data(as_text=True)
    assert 'id="erased-notice"' in after and 'id="erase-button"' not in after
    assert NAME not in after and NOTE not in after and "Quellenberg" not in after
    assert "Antrag auf Löschung vom 3. Dezember" in after  # the reason, in the history
    assert get_submission(db, created.id).answers == {}
    assert history(db, created.id)[-1].actor == ADMIN
    assert get_submission(db, other.id).answers["name"] == "Kurt Andermann"
    entries, _ = audit_entries(db, AuditQuery(action="erase"))
    assert [(e.actor, e.object_ref) for e in entries] == [
        (ADMIN, get_submission(db, created.id).reference)]
    # nothing of the applicant in the server's logs
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "Quellenberg" not in logged and ADDRESS not in logged


def test_coordinators_may_erase_only_where_the_deployment_allows_it(
    app: Flask, db: Database
) -> None:
    created = _submitted(db)
    coordinator = Staff(app).client(COORDINATOR)
    page_url = f"/inbox/{created.id}"
    assert 'id="erase-button"' not in coordinator.get(page_url).get_data(as_text=True)
    refused = post_form(coordinator, page_url, f"/inbox/{created.id}/erase",
                        {"reason": "x", "confirmed": "1"})
    assert refused.status_code == 403
    assert get_submission(db, created.id).erased_at is None
    app.config["COORDINATORS_MAY_ERASE"] = True
    allowed = post_form(coordinator, page_url, f"/inbox/{created.id}/erase",
                        {"reason": "Art. 17", "confirmed": "1"})
    assert allowed.status_code == 303
    assert get_submission(db, created.id).erased_at is not None


def test_staff_download_everything_of_the_applicant(app: Flask, db: Database) -> None:
    created = _submitted(db)
    submit(db, "grant", answers(name="Kurt Andermann", email="kurt@example.org"), "de")
    coordinator = Staff(app).client(COORDINATOR)
    response = coordinator.get(f"/inbox/{created.id}/personal-data.json")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    document = json.loads(response.get_data(as_text=True))
    assert document["email"] == ADDRESS
    [entry] = document["submissions"]
    assert {a["field"]: a["value"] for a in entry["answers"]}["name"] == NAME
    assert entry["history"][1]["note"] == NOTE  # staff see their notes
    assert "Andermann" not in response.get_data(as_text=True)
    entries, _ = audit_entries(db, AuditQuery(action="personal_data_export"))
    assert [e.actor for e in entries] == [COORDINATOR]


def test_the_applicant_downloads_their_data_and_later_sees_the_tombstone(
    app: Flask, db: Database, client: FlaskClient
) -> None:
    created = _submitted(db)
    status = client.get(f"/status/{created.token}").get_data(as_text=True)
    assert "Meine Daten herunterladen" in status
    download = client.get(f"/status/{created.token}/data.json")
    assert download.status_code == 200
    text = download.get_data(as_text=True)
    assert NAME in text and "Leider abgelehnt" in text
    assert NOTE not in text and COORDINATOR not in text  # never staff-internal
    assert client.get("/status/not-a-token/data.json").status_code == 404

    admin = Staff(app).client(ADMIN)
    post_form(admin, f"/inbox/{created.id}", f"/inbox/{created.id}/erase",
              {"reason": "Art. 17", "confirmed": "1"})
    tomb = client.get(f"/status/{created.token}").get_data(as_text=True)
    assert "Ihre Daten wurden gelöscht." in tomb and 'id="download-my-data"' not in tomb
    assert get_submission(db, created.id).reference in tomb
    english = client.get(f"/status/{created.token}?lang=en").get_data(as_text=True)
    assert "Your data has been erased." in english

    api = client.get(f"/api/submissions/{created.id}",
                     headers={"Authorization": f"Bearer {created.token}"})
    body = api.get_json()
    assert api.status_code == 200 and body["answers"] == {} and body["erased_at"]
    assert body["history"][-1]["kind"] == "erased"
    assert "Quellenberg" not in api.get_data(as_text=True)


@pytest.mark.parametrize(("language", "imprint", "privacy"),
                         [("de", "Impressum", "Datenschutz"), ("en", "Imprint", "Privacy")])
def test_every_kind_of_page_links_the_legal_pages(
    app: Flask, db: Database, language: str, imprint: str, privacy: str
) -> None:
    created = submit(db, "grant", answers(), "de")
    anonymous = app.test_client()
    admin = Staff(app).client(ADMIN)
    pages = {
        "start": (anonymous, "/"),
        "step": (anonymous, "/f/grant"),
        "status": (anonymous, f"/status/{created.token}"),
        "login": (anonymous, "/login"),
        "error": (anonymous, "/no/such/page"),
        "inbox": (admin, "/inbox"),
        "submission": (admin, f"/inbox/{created.id}"),
        "admin": (admin, "/admin/audit"),
    }
    for name, (client, url) in pages.items():
        separator = "&" if "?" in url else "?"
        page = client.get(f"{url}{separator}lang={language}", follow_redirects=True)
        text = page.get_data(as_text=True)
        assert f'<a id="imprint-link" href="{IMPRINT}">{imprint}</a>' in text, name
        assert f'<a id="privacy-link" href="{PRIVACY}">{privacy}</a>' in text, name


def test_the_audit_page_lists_filters_and_exports(app: Flask, db: Database) -> None:
    admin = Staff(app).client(ADMIN)
    page_url = "/admin/users"
    post_form(admin, page_url, "/admin/users",
              {"email": "neu@example.org", "roles": "coordinator"})
    listing = admin.get("/admin/audit").get_data(as_text=True)
    assert 'data-action="user_invite"' in listing and "neu@example.org" in listing
    only_erasures = admin.get("/admin/audit?action=erase").get_data(as_text=True)
    assert 'data-action="user_invite"' not in only_erasures
    csv_text = admin.get("/admin/audit.csv").get_data(as_text=True)
    assert csv_text.startswith("\ufeffat,actor,action,object,detail")
    assert f"{ADMIN},user_invite,neu@example.org,coordinator" in csv_text
    bad = admin.get("/admin/audit?from=yesterday")
    assert bad.status_code == 422 and "ist kein Datum" in bad.get_data(as_text=True)
    assert Staff(app).client(COORDINATOR).get("/admin/audit").status_code == 403
