"""Forms and workflows: lists with versions and drafts, import (all or nothing), export,
version history, publishing an older version, new drafts."""

from __future__ import annotations

import io
import json
from typing import Any

from engine.services import Database, export_definition
from engine.services.editing import version_history
from support.admin import FORM, WORKFLOW, Browser, form


def upload(admin: Browser, kinds: str, data: Any, *, publish: bool = True,
           name: str = "definition.json") -> Any:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode("utf-8")
    fields: dict[str, Any] = {"definition_file": (io.BytesIO(raw), name)}
    if publish:
        fields["publish"] = "on"
    return admin.post_form(f"/admin/{kinds}/import", fields,
                           content_type="multipart/form-data")


def test_the_lists_show_published_and_newest_versions_and_drafts(
    admin: Browser, db: Database
) -> None:
    page = admin.get("/admin/forms").get_data(as_text=True)
    assert 'id="definition-grant"' in page
    assert 'data-published="1"' in page and 'data-latest="1"' in page
    assert "Förderantrag" in page  # the title, in the page language (German by default)
    assert 'data-draft="false"' in page
    admin.post_json("/admin/forms/grant/draft", {"definition": form(), "revision": 0})
    page = admin.get("/admin/forms").get_data(as_text=True)
    assert 'data-draft="true"' in page
    workflows = admin.get("/admin/workflows").get_data(as_text=True)
    assert 'id="definition-triage"' in workflows and "Sichtung" in workflows


def test_pages_are_german_by_default_and_english_on_request(admin: Browser) -> None:
    german = admin.get("/admin/forms").get_data(as_text=True)
    assert "Datei importieren" in german and "Neues Formular" in german
    english = admin.get("/admin/forms?lang=en").get_data(as_text=True)
    assert "Import a file" in english and "Datei importieren" not in english


def test_importing_a_valid_file_stores_and_publishes_the_next_version(
    admin: Browser, db: Database
) -> None:
    changed = form(title={"de": "Neuer Titel", "en": "New title"})
    response = upload(admin, "forms", changed)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/forms/grant/versions")
    history = version_history(db, "form", "grant")
    assert [v.version for v in history] == [1, 2]
    assert history[-1].is_current_published
    assert export_definition(db, "form", "grant")["title"]["de"] == "Neuer Titel"
    page = admin.get("/admin/forms/grant/versions").get_data(as_text=True)
    assert "als Version 2 veröffentlicht" in page


def test_importing_without_publishing_keeps_the_published_version(
    admin: Browser, db: Database
) -> None:
    upload(admin, "forms", form(title="Ohne Veröffentlichung"), publish=False)
    history = version_history(db, "form", "grant")
    assert [v.version for v in history] == [1, 2]
    assert history[0].is_current_published and not history[1].is_current_published


def test_a_refused_import_shows_every_problem_at_its_pointer_and_stores_nothing(
    admin: Browser, db: Database
) -> None:
    broken = form()
    broken["steps"][0]["fields"][1]["type"] = "telepathy"
    broken["rules"] = [{"when": {"field": "ghost", "op": "equal_to", "value": 1},
                        "show": ["name"]}]
    broken["id"] = "grant"
    response = upload(admin, "forms", broken, name="broken.json")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="import-problems"' in page
    assert "broken.json" in page
    assert 'data-pointer="/steps/0/fields/1/type"' in page
    assert 'data-pointer="/rules/0/when/field"' in page
    assert "<code>/rules/0/when/field</code>: unknown field &#39;ghost&#39;" in page
    assert [v.version for v in version_history(db, "form", "grant")] == [1]


def test_an_import_that_could_not_be_published_stores_nothing(
    admin: Browser, db: Database
) -> None:
    orphan = form(id="orphan", workflow="no_such_workflow")
    response = upload(admin, "forms", orphan)
    assert response.status_code == 422
    assert "no_such_workflow" in response.get_data(as_text=True)
    with db.read() as store:
        assert store.definitions.latest("form", "orphan") is None


def test_a_file_that_is_not_json_is_refused_with_one_problem(
    admin: Browser, db: Database
) -> None:
    response = upload(admin, "workflows", b"{not json", name="x.json")
    assert response.status_code == 422
    assert "not a JSON file" in response.get_data(as_text=True)
    assert [v.version for v in version_history(db, "workflow", "triage")] == [1]


def test_importing_a_new_workflow(admin: Browser, db: Database) -> None:
    new = dict(WORKFLOW, id="second")
    assert upload(admin, "workflows", new).status_code == 302
    assert export_definition(db, "workflow", "second") == new


def test_export_downloads_the_published_version_or_any_version(
    admin: Browser, db: Database
) -> None:
    upload(admin, "forms", form(title="Zwei"), publish=False)
    response = admin.get("/admin/forms/grant/export")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert 'attachment; filename="grant-v1.json"' == response.headers["Content-Disposition"]
    assert json.loads(response.get_data()) == FORM  # the published one
    second = admin.get("/admin/forms/grant/export?version=2")
    assert json.loads(second.get_data())["title"] == "Zwei"
    assert second.headers["Content-Disposition"].endswith('"grant-v2.json"')
    assert admin.get("/admin/forms/grant/export?version=9").status_code == 404
    assert admin.get("/admin/forms/nothing/export").status_code == 404
    assert admin.get("/admin/things/grant/export").status_code == 404


def test_an_older_version_can_be_published_again(admin: Browser, db: Database) -> None:
    upload(admin, "forms", form(title="Zwei"))
    assert version_history(db, "form", "grant")[-1].is_current_published
    response = admin.post_form("/admin/forms/grant/versions/1/publish")
    assert response.status_code == 302
    history = version_history(db, "form", "grant")
    assert history[0].is_current_published and not history[1].is_current_published


def test_the_diff_page_describes_changes_in_words(admin: Browser) -> None:
    changed = form()
    changed["steps"][0]["fields"][3]["required"] = False
    upload(admin, "forms", changed)
    page = admin.get("/admin/forms/grant/diff?from=1&to=2").get_data(as_text=True)
    assert "Feld ‚phone&#39; (Schritt ‚person&#39;): Pflichtfeld ja → nein" in page
    assert admin.get("/admin/forms/grant/diff?from=1&to=7").status_code == 404


def test_a_new_form_starts_as_a_draft_of_a_valid_skeleton(admin: Browser, db: Database) -> None:
    response = admin.post_form("/admin/forms/new", {"definition_id": "fresh"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/forms/fresh/edit")
    page = admin.get("/admin/forms").get_data(as_text=True)
    assert 'id="definition-fresh"' in page
    check = admin.post_json("/admin/forms/fresh/check", {
        "definition": admin.get("/admin/forms/fresh/draft").get_json()["definition"]})
    # The skeleton itself is sound; only its workflow's guard reads a field it lacks ("age").
    problems = [p for p in check.get_json()["problems"] if p["severity"] == "error"]
    assert [p["pointer"] for p in problems] == ["/workflow"]
    assert "age" in problems[0]["message"]
    taken = admin.post_form("/admin/forms/new", {"definition_id": "grant"})
    assert taken.status_code == 422
    bad = admin.post_form("/admin/forms/new", {"definition_id": "Not An Id"})
    assert bad.status_code == 422 and 'id="new-error"' in bad.get_data(as_text=True)


def test_version_times_are_in_the_app_time_zone(admin: Browser, db: Database) -> None:
    """Like the inbox: FORMFLOW_TIMEZONE (Berlin by default), not UTC (issue 18)."""
    from zoneinfo import ZoneInfo

    [first] = version_history(db, "form", "grant")
    local = first.created_at.astimezone(ZoneInfo("Europe/Berlin"))
    page = admin.get("/admin/forms/grant/versions").get_data(as_text=True)
    assert f"{local:%d.%m.%Y %H:%M}" in page
    assert " UTC" not in page
    english = admin.get("/admin/forms/grant/versions?lang=en").get_data(as_text=True)
    assert f"{local:%Y-%m-%d %H:%M}" in english


def test_publishing_warns_about_texts_empty_in_a_listed_language(admin: Browser) -> None:
    """Importing with publish and publishing a stored version both say, by label and in the
    page language, where a language the form lists has no text."""
    gappy = form(title="Lücken")
    gappy["steps"][1]["fields"][0]["label"] = {"de": "Thema", "en": ""}
    response = upload(admin, "forms", gappy)
    assert response.status_code == 302
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert "Warnung: Schritt ‚Vorhaben&#39;, Feld ‚Thema&#39;: leer in ‚en&#39;" in page
    upload(admin, "forms", form(title="Ganz"))
    again = admin.post_form("/admin/forms/grant/versions/2/publish")
    page = admin.get(again.headers["Location"]).get_data(as_text=True)
    assert "Version 2 ist jetzt veröffentlicht" in page
    assert "Feld ‚Thema&#39;: leer in ‚en&#39;" in page
    clean = admin.post_form("/admin/forms/grant/versions/3/publish")
    assert "leer in" not in admin.get(clean.headers["Location"]).get_data(as_text=True)
