"""The editor's check answers name places by label in the page language (issue 18).

The engine's problems stay English at JSON pointers (the raw JSON view shows them so); the
check endpoint adds ``where`` (``Schritt ‚Person', Feld ‚Alter'``) and ``text`` (the message
translated), and a summary with the plural forms of the page language.
"""

from __future__ import annotations

from typing import Any

from support.admin import Browser, form


def _check(admin: Browser, data: dict[str, Any], language: str = "de") -> dict[str, Any]:
    answer = admin.post_json(f"/admin/forms/grant/check?lang={language}", {"definition": data})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return dict(answer.get_json())


def _broken() -> dict[str, Any]:
    data = form()
    data["steps"][0]["fields"][2]["id"] = "name"  # "Alter" takes the id of "Name"
    data["steps"][1]["fields"][0]["label"] = {"de": "Thema", "en": ""}
    return data


def test_problems_name_step_and_field_by_label_in_german(admin: Browser) -> None:
    body = _check(admin, _broken())
    by_pointer = {p["pointer"]: p for p in body["problems"]}
    twice = by_pointer["/steps/0/fields/2/id"]
    assert twice["where"] == "Schritt ‚Person', Feld ‚Alter'"
    assert twice["text"] == ("die Kennung ‚name' ist doppelt vergeben "
                             "(auch: Schritt ‚Person', Feld ‚Name')")
    assert twice["message"].startswith("id 'name' is already used at /steps/0/fields/0/id")
    assert body["summary"] == "1 Fehler, 0 Warnungen"


def test_plural_forms_and_english(admin: Browser) -> None:
    data = _broken()
    data["steps"][0]["fields"][2]["id"] = "age"
    body = _check(admin, data)
    empty = next(p for p in body["problems"] if p["pointer"] == "/steps/1/fields/0/label")
    assert empty["severity"] == "warning"
    assert empty["where"] == "Schritt ‚Vorhaben', Feld ‚Thema'"
    assert empty["text"] == "leer in ‚en', einer Sprache des Formulars"
    assert body["summary"] == "0 Fehler, 1 Warnung"
    english = _check(admin, _broken(), "en")
    twice = next(p for p in english["problems"] if p["pointer"] == "/steps/0/fields/2/id")
    assert twice["where"] == "Step 'Person', field 'Age'"
    assert english["summary"] == "1 error, 0 warnings"


def test_pattern_messages_are_translated_and_odd_pointers_name_nothing(
    admin: Browser
) -> None:
    data = form()
    data["steps"][0]["fields"][0]["pattern"] = "\\d+"
    body = _check(admin, data)
    problem = next(p for p in body["problems"] if p["pointer"].endswith("/pattern"))
    assert problem["text"] == ("kein gültiges Muster: \\d ist nicht erlaubt (es bedeutet im "
                               "Browser und auf dem Server Verschiedenes): schreiben Sie [0-9] "
                               "(an Stelle 1)")
    assert problem["where"] == "Schritt ‚Person', Feld ‚Name'"
    whole = _check(admin, {"id": "grant"})
    assert all(p["where"] == "" for p in whole["problems"] if p["pointer"] in ("", "/"))


def test_an_id_is_proposed_from_the_title() -> None:
    from engine.services.editing import proposed_id

    assert proposed_id("Förderantrag") == "foerderantrag"
    assert proposed_id("  Große Übung: Äpfel & Öl  ") == "grosse-uebung-aepfel-oel"
    assert proposed_id("2027 Antrag") == "form-2027-antrag"
    assert proposed_id("!!!") == ""
    assert len(proposed_id("x" * 300)) == 64


def test_new_form_from_a_title_alone_and_a_proposal_for_a_bad_id(admin: Browser) -> None:
    created = admin.post_form("/admin/forms/new", {"title": "Förderantrag", "definition_id": ""})
    assert created.status_code == 302
    assert created.headers["Location"].endswith("/admin/forms/foerderantrag/edit")
    draft = admin.get("/admin/forms/foerderantrag/draft").get_json()
    assert draft["definition"]["title"] == {"de": "Förderantrag"}
    refused = admin.post_form("/admin/forms/new", {"title": "", "definition_id": "Über Uns"})
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert 'value="ueber-uns"' in page
    assert "vorgeschlagen ist ueber-uns" in page


def test_workflow_problems_name_transitions_by_label(admin: Browser) -> None:
    from support.admin import WORKFLOW

    data = {**WORKFLOW, "transitions": [dict(t) for t in WORKFLOW["transitions"]]}
    data["transitions"][1]["from"] = ["submitted", "rejected"]
    data["transitions"].append({"id": "again", "from": ["submitted"], "to": "submitted",
                                "roles": ["coordinator"], "label": {"de": "Nochmal"}})
    answer = admin.post_json("/admin/workflows/triage/check", {"definition": data})
    problems = {p["pointer"]: p for p in answer.get_json()["problems"]}
    loop = problems["/transitions/3/from/0"]
    assert (loop["where"], loop["text"]) == (
        "Übergang ‚Nochmal'", "führt in den Status zurück, von dem er ausgeht")
    final = problems["/transitions/1/from/1"]
    assert final["where"] == "Übergang ‚Ablehnen'" and final["severity"] == "error"
    data["transitions"][1]["from"] = "submitted"  # without errors the account checks run too
    answer = admin.post_json("/admin/workflows/triage/check", {"definition": data})
    problems = {p["pointer"]: p for p in answer.get_json()["problems"]}
    nobody = problems["/transitions/2/roles"]  # "audit": only a treasurer, and there is none
    assert nobody["text"] == ("niemand darf ihn auslösen: kein aktives Konto hat die Rolle(n) "
                              "‚treasurer'")
