"""The editor's draft, validation, publishing, what-if and diagram endpoints, and the data the
editor page hands its scripts (one source of truth: the engine's own tables)."""

from __future__ import annotations

import copy
import json
import re
import xml.etree.ElementTree as ET

from engine.conditions import OPERATORS
from engine.definitions import allowed_properties
from engine.services import Database, definitions_of, submit
from engine.services.editing import version_history
from support.admin import FORM, WORKFLOW, Browser, editor_config, form

DRAFT = "/admin/forms/grant/draft"
PREVIEW = "/admin/forms/grant/preview"


def save(admin: Browser, definition: object, revision: int | None) -> object:
    return admin.post_json(DRAFT, {"definition": definition, "revision": revision})


# -- the page --------------------------------------------------------------------------------


def test_the_editor_page_hands_the_engine_tables_to_its_scripts(admin: Browser) -> None:
    page = admin.get("/admin/forms/grant/edit").get_data(as_text=True)
    config = editor_config(page)
    assert config["kind"] == "form" and config["id"] == "grant"
    assert config["draft"]["definition"] == FORM
    assert config["draft"]["revision"] == 0 and config["draft"]["base_version"] == 1
    # The operators per field type are exactly the engine's OPERATORS table.
    assert set(config["operators"]) == set(OPERATORS)
    assert config["operator_order"] == list(OPERATORS)
    for name, operator in OPERATORS.items():
        assert set(config["operators"][name]["types"]) == set(operator.types)
        assert config["operators"][name]["value"] == operator.value
    for kind, properties in config["field_properties"].items():
        assert set(properties) == set(allowed_properties(kind)) - {"id", "type"}
    assert [w["id"] for w in config["workflows"]] == ["triage"]
    assert "treasurer" in config["roles"]
    assert config["csrf_token"]
    assert config["words"]["Move up"] == "nach oben"  # German words for the scripts


def test_operators_offered_per_field_type(admin: Browser) -> None:
    """What the rule builder offers for a few types, derived from the page's table."""
    config = editor_config(admin.get("/admin/forms/grant/edit").get_data(as_text=True))

    def offered(field_type: str) -> set[str]:
        return {op for op, spec in config["operators"].items() if field_type in spec["types"]}

    assert offered("number") >= {"greater_than", "less_or_equal", "one_of"}
    assert "contains" not in offered("number")
    assert offered("checkbox") == {"equal_to", "not_equal_to", "is_empty", "is_not_empty"}
    assert "greater_than" not in offered("select") and "contains" in offered("checkboxes")
    assert "starts_with" in offered("text") and "starts_with" not in offered("date")


def test_the_page_escapes_definition_texts(admin: Browser, db: Database) -> None:
    evil = form()
    evil["title"] = {"de": "</script><script>alert(1)</script>", "en": "x"}
    save(admin, evil, 0)
    page = admin.get("/admin/forms/grant/edit").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert editor_config(page)["draft"]["definition"]["title"]["de"].startswith("</script>")


def test_unknown_definitions_have_no_editor(admin: Browser) -> None:
    assert admin.get("/admin/forms/nothing/edit").status_code == 404
    response = admin.client.get("/admin/forms/nothing/draft",
                                headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


# -- drafts ----------------------------------------------------------------------------------


def test_a_saved_draft_round_trips_exactly(admin: Browser, db: Database) -> None:
    changed = form()
    changed["steps"][0]["fields"].insert(0, changed["steps"][0]["fields"].pop(2))
    changed["steps"][0]["fields"][0]["label"]["de"] = "Lebensalter ‚ß‘ <b>"
    response = save(admin, changed, 0)
    assert response.status_code == 200
    body = response.get_json()
    assert body["draft"]["revision"] == 1 and body["draft"]["definition"] == changed
    assert body["problems"] == []
    assert admin.get(DRAFT).get_json()["definition"] == changed
    page = admin.get("/admin/forms/grant/edit").get_data(as_text=True)
    assert editor_config(page)["draft"]["definition"] == changed
    # Saving is not publishing: the published version is untouched.
    assert [v.version for v in version_history(db, "form", "grant")] == [1]


def test_an_unfinished_draft_is_saved_with_its_problems(admin: Browser) -> None:
    unfinished = form()
    unfinished["steps"][1]["fields"].append({"id": "half", "type": "select"})
    response = save(admin, unfinished, 0)
    assert response.status_code == 200
    pointers = {p["pointer"] for p in response.get_json()["problems"]}
    assert "/steps/1/fields/3" in pointers
    assert admin.get(DRAFT).get_json()["definition"] == unfinished


def test_a_stale_revision_is_refused_with_the_current_draft(admin: Browser) -> None:
    first = save(admin, form(title="Erste"), 0).get_json()["draft"]
    assert save(admin, form(title="Zweite"), first["revision"]).status_code == 200
    stale = save(admin, form(title="Dritte"), first["revision"])
    assert stale.status_code == 409
    body = stale.get_json()
    assert body["error"] == "draft_conflict"
    assert body["draft"]["definition"]["title"] == "Zweite" and body["draft"]["revision"] == 2
    assert admin.get(DRAFT).get_json()["definition"]["title"] == "Zweite"


def test_bad_draft_bodies_are_400(admin: Browser) -> None:
    assert admin.post_json(DRAFT, ["not", "an", "object"]).status_code == 400
    assert admin.post_json(DRAFT, {"revision": 0}).status_code == 400
    assert admin.post_json(DRAFT, {"definition": {}, "revision": "1"}).status_code == 400
    raw = admin.client.post(DRAFT, data="{broken", content_type="application/json",
                            headers={"X-CSRFToken": admin.token})
    assert raw.status_code == 400 and raw.get_json()["error"] == "bad_request"


def test_discarding_a_draft_returns_to_the_published_version(admin: Browser) -> None:
    save(admin, form(title="Weg damit"), 0)
    response = admin.post_form("/admin/forms/grant/draft/discard")
    assert response.status_code == 302
    draft = admin.get(DRAFT).get_json()
    assert draft["revision"] == 0 and draft["definition"] == FORM


# -- validation ------------------------------------------------------------------------------


def test_the_check_endpoint_returns_problems_at_json_pointers(admin: Browser) -> None:
    broken = form()
    broken["steps"][0]["fields"][2]["min"] = "ten"
    broken["rules"].append({"when": {"field": "age", "op": "contains", "value": "1"},
                            "show": ["nowhere"]})
    response = admin.post_json("/admin/forms/grant/check", {"definition": broken})
    assert response.status_code == 200
    body = response.get_json()
    problems = {p["pointer"]: p for p in body["problems"]}
    assert "/steps/0/fields/2/min" in problems
    assert "/rules/1/when/op" in problems
    assert "does not fit" in problems["/rules/1/when/op"]["message"]
    assert "/rules/1/show/0" in problems
    assert all(p["severity"] == "error" for p in body["problems"])
    assert body["errors"] == len(body["problems"]) and body["warnings"] == 0


def test_the_check_reports_a_changed_id_and_warnings(admin: Browser) -> None:
    renamed = form(id="other")
    body = admin.post_json("/admin/forms/grant/check", {"definition": renamed}).get_json()
    assert body["problems"][0]["pointer"] == "/id" and body["errors"] == 1
    later = form()
    later["rules"] = [{"when": {"field": "topic", "op": "is_not_empty"}, "show": ["age"]}]
    body = admin.post_json("/admin/forms/grant/check", {"definition": later}).get_json()
    assert body["errors"] == 0 and body["warnings"] >= 1
    assert any(p["severity"] == "warning" and p["pointer"].startswith("/rules/0")
               for p in body["problems"])


def test_the_check_survives_any_json(admin: Browser) -> None:
    for junk in (None, 7, "text", [], {"steps": "no"}):
        response = admin.post_json("/admin/forms/grant/check", {"definition": junk})
        assert response.status_code == 200
        assert response.get_json()["errors"] >= 1


# -- publishing ------------------------------------------------------------------------------


def test_publishing_creates_version_2_and_old_submissions_keep_version_1(
    admin: Browser, db: Database
) -> None:
    old = submit(db, "grant", {"name": "Ada", "age": 30, "phone": "030 1234"}, "de")
    changed = form()
    changed["steps"][0]["fields"][3]["label"] = {"de": "Rufnummer", "en": "Phone number"}
    changed["steps"][0]["fields"][3]["required"] = False
    revision = save(admin, changed, 0).get_json()["draft"]["revision"]
    changes = admin.post_json("/admin/forms/grant/changes", {"definition": changed}).get_json()
    texts = [c["text"] for c in changes["changes"]]
    assert "Feld ‚phone' (Schritt ‚person'): Pflichtfeld ja → nein" in texts
    response = admin.post_json("/admin/forms/grant/publish", {"revision": revision})
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.get_json()
    assert body["version"] == 2 and body["created"] is True
    assert "Feld ‚phone' (Schritt ‚person'): Pflichtfeld ja → nein" in [
        c["text"] for c in body["changes"]]
    history = version_history(db, "form", "grant")
    assert [v.version for v in history] == [1, 2] and history[1].is_current_published
    # The draft is gone: the editor starts from version 2 again.
    draft = admin.get(DRAFT).get_json()
    assert draft["revision"] == 0 and draft["base_version"] == 2
    # A submission made before keeps version 1 and its labels.
    from engine.services import get_submission

    record = get_submission(db, old.id)
    assert record.form_version == 1
    pinned_form, _workflow = definitions_of(db, record)
    assert pinned_form.field_map()["phone"].label["de"] == "Telefon"
    assert pinned_form.field_map()["phone"].required is True
    new = submit(db, "grant", {"name": "Bo"}, "de")
    assert get_submission(db, new.id).form_version == 2


def test_publishing_a_draft_with_errors_is_refused_and_stores_nothing(
    admin: Browser, db: Database
) -> None:
    broken = form()
    broken["steps"][0]["fields"][0]["type"] = "nonsense"
    revision = save(admin, broken, 0).get_json()["draft"]["revision"]
    response = admin.post_json("/admin/forms/grant/publish", {"revision": revision})
    assert response.status_code == 422
    body = response.get_json()
    assert body["error"] == "definition_invalid"
    assert any(p["pointer"] == "/steps/0/fields/0/type" for p in body["problems"])
    assert [v.version for v in version_history(db, "form", "grant")] == [1]
    assert admin.get(DRAFT).get_json()["revision"] == revision  # the draft is kept


def test_publishing_a_stale_revision_or_without_a_draft_is_refused(admin: Browser) -> None:
    assert admin.post_json("/admin/forms/grant/publish", {"revision": 0}).status_code == 404
    save(admin, form(title="A"), 0)
    response = admin.post_json("/admin/forms/grant/publish", {"revision": 7})
    assert response.status_code == 409


def test_publishing_an_unchanged_draft_creates_no_version(admin: Browser, db: Database) -> None:
    revision = save(admin, form(), 0).get_json()["draft"]["revision"]
    body = admin.post_json("/admin/forms/grant/publish", {"revision": revision}).get_json()
    assert body == {**body, "version": 1, "created": False, "changes": []}
    assert [v.version for v in version_history(db, "form", "grant")] == [1]


def test_a_workflow_change_that_breaks_a_form_is_refused(admin: Browser, db: Database) -> None:
    workflow = copy.deepcopy(WORKFLOW)
    workflow["transitions"][0]["when"] = {"field": "missing", "op": "is_empty"}
    saved = admin.post_json("/admin/workflows/triage/draft",
                            {"definition": workflow, "revision": 0}).get_json()
    assert any("grant" in p["message"] for p in saved["problems"])
    response = admin.post_json("/admin/workflows/triage/publish",
                               {"revision": saved["draft"]["revision"]})
    assert response.status_code == 422
    assert [v.version for v in version_history(db, "workflow", "triage")] == [1]


# -- what if and the diagram -----------------------------------------------------------------


def test_what_if_evaluates_the_draft_and_lists_transitions(admin: Browser) -> None:
    draft = form()
    response = admin.post_json("/admin/forms/grant/what-if", {
        "definition": draft, "answers": {"name": "Ada", "age": "17", "topic": "sport"},
        "role": "coordinator", "language": "de"})
    assert response.status_code == 200
    body = response.get_json()
    evaluation = body["evaluation"]
    assert "details" in evaluation["visible_fields"]
    assert {"details", "name", "phone"} <= set(evaluation["required"])
    assert "phone" in evaluation["invalid"] and evaluation["answers"] is None
    fields = {f["id"]: f for step in body["steps"] for f in step["fields"]}
    assert fields["details"]["required"] and fields["phone"]["errors"]
    submitted = next(s for s in body["states"] if s["id"] == "submitted")
    offered = {t["id"]: t for t in submitted["transitions"]}
    assert offered["accept"]["offered"] is False and offered["accept"]["reason"] == "guard"
    assert offered["reject"]["offered"] is True
    assert offered["audit"]["reason"] == "role"
    adult = admin.post_json("/admin/forms/grant/what-if", {
        "definition": draft, "answers": {"name": "Ada", "age": 18, "phone": "030 1"},
        "role": "coordinator"}).get_json()
    accept = next(t for t in adult["states"][0]["transitions"] if t["id"] == "accept")
    assert accept["offered"] is True


def test_what_if_with_an_invalid_draft_is_422(admin: Browser) -> None:
    broken = form(steps=[])
    response = admin.post_json("/admin/forms/grant/what-if",
                               {"definition": broken, "answers": {}})
    assert response.status_code == 422 and response.get_json()["problems"]
    assert admin.post_json("/admin/forms/grant/what-if",
                           {"definition": form(), "answers": [1]}).status_code == 400


def _field_markup(html: str, field_id: str) -> str:
    found = re.search(rf'<div class="ff-field[^>]*data-field="{field_id}".*?</div>', html, re.S)
    assert found, f"no field {field_id!r}"
    return " ".join(found.group(0).split())


def test_the_preview_is_the_applicant_pages_markup_for_the_draft(admin: Browser) -> None:
    draft = form()
    response = admin.post_json(PREVIEW, {"definition": draft, "answers": {}, "language": "de"})
    assert response.status_code == 200
    html = response.get_json()["html"]
    assert 'id="preview-form"' in html
    assert [m for m in re.findall(r'data-page="([^"]+)"', html)] == ["person", "project"]
    definition = re.search(
        r'<script type="application/json" id="formflow-definition">(.*?)</script>', html, re.S)
    assert definition and json.loads(definition.group(1)) == draft
    # the same macros as the applicant's step page, only with the preview's own ids
    applicant = admin.get("/f/grant", follow_redirects=True).get_data(as_text=True)
    for field_id in ("name", "email", "age", "phone"):
        assert _field_markup(html, field_id) == (
            _field_markup(applicant, field_id).replace('"field-', '"pv-'))
    assert 'id="pv-name"' in html and 'maxlength="120"' in html


def test_the_preview_shows_the_sample_answers_and_hides_what_the_rules_hide(
    admin: Browser,
) -> None:
    draft = form()
    sport = admin.post_json(PREVIEW, {
        "definition": draft, "answers": {"name": "Ada <b>", "topic": "sport"}, "language": "en",
    }).get_json()["html"]
    assert 'value="Ada &lt;b&gt;"' in sport
    assert '<label for="pv-name">Name<span' in sport
    assert '<option selected value="sport">Sport</option>' in sport
    details = re.search(r'<div[^>]*data-field="details"[^>]*>', sport)
    assert details and "hidden" not in details.group(0)
    assert re.search(r'<textarea[^>]*aria-required="true"[^>]*id="pv-details"', sport)
    culture = admin.post_json(PREVIEW, {
        "definition": draft, "answers": {"topic": "culture"}, "language": "en",
    }).get_json()["html"]
    details = re.search(r'<div[^>]*data-field="details"[^>]*>', culture)
    assert details and "hidden" in details.group(0)
    assert re.search(r'<textarea[^>]*data-formflow-disabled[^>]*disabled[^>]*id="pv-details"',
                     culture)
    assert '<label for="pv-consent">I agree<span' in culture  # the preview's language


def test_the_preview_refuses_invalid_drafts_and_survives_odd_input(admin: Browser) -> None:
    broken = admin.post_json(PREVIEW, {"definition": form(steps=[]), "answers": {}})
    assert broken.status_code == 422 and broken.get_json()["problems"]
    assert admin.post_json(PREVIEW, {"definition": form(), "answers": [1]}).status_code == 400
    odd = admin.post_json(PREVIEW, {
        "definition": form(), "language": ["x"],
        "answers": {"name": {"a": 1}, "topic": ["sport"], "consent": "yes", "age": 1e308},
    })
    assert odd.status_code == 200 and 'lang="de"' in odd.get_json()["html"]


def test_workflow_what_if_uses_the_draft_workflow(admin: Browser) -> None:
    workflow = copy.deepcopy(WORKFLOW)
    workflow["transitions"][0]["when"] = {"field": "age", "op": "less_than", "value": 18}
    body = admin.post_json("/admin/workflows/triage/what-if", {
        "definition": workflow, "form": "grant", "answers": {"age": 10},
        "role": "coordinator"}).get_json()
    accept = next(t for t in body["states"][0]["transitions"] if t["id"] == "accept")
    assert accept["offered"] is True
    missing = admin.post_json("/admin/workflows/triage/what-if", {
        "definition": workflow, "form": "nothing", "answers": {}})
    assert missing.status_code == 404


def test_the_workflow_editor_embeds_the_diagram(admin: Browser) -> None:
    page = admin.get("/admin/workflows/triage/edit").get_data(as_text=True)
    start = page.index("<svg")
    svg = page[start:page.index("</svg>", start) + len("</svg>")]
    root = ET.fromstring(svg)
    states = root.findall(".//{http://www.w3.org/2000/svg}g[@class]")
    ids = [g.get("data-state") for g in states if "state" in (g.get("class") or "").split()]
    assert ids == ["submitted", "accepted", "rejected"]
    config = editor_config(page)
    assert config["kind"] == "workflow" and config["forms"][0]["id"] == "grant"
    assert {"id": "age", "type": "number", "label": "Alter", "options": []} in \
        config["forms"][0]["fields"]


def test_the_diagram_endpoint_draws_the_draft(admin: Browser) -> None:
    workflow = copy.deepcopy(WORKFLOW)
    workflow["states"].append({"id": "parked", "label": {"de": "<Geparkt & so>"}})
    workflow["transitions"].append(
        {"id": "park", "from": "submitted", "to": "parked", "roles": ["coordinator"]})
    workflow["transitions"].append(
        {"id": "unpark", "from": "parked", "to": "submitted", "roles": ["coordinator"]})
    response = admin.post_json("/admin/workflows/triage/diagram", {"definition": workflow})
    assert response.status_code == 200
    svg = response.get_json()["svg"]
    root = ET.fromstring(svg)
    assert "&lt;Geparkt &amp; so&gt;" in svg
    assert any(t.text == "<Geparkt & so>" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    broken = dict(workflow, initial="nowhere")
    refused = admin.post_json("/admin/workflows/triage/diagram", {"definition": broken})
    assert refused.status_code == 422


def test_the_json_config_block_cannot_be_broken_out_of(admin: Browser) -> None:
    sneaky = form()
    sneaky["title"] = {"de": "</script><!--", "en": "x"}
    save(admin, sneaky, 0)
    page = admin.get("/admin/forms/grant/edit").get_data(as_text=True)
    block = page.split('id="editor-config">', 1)[1].split("</script>", 1)[0]
    assert json.loads(block)["draft"]["definition"]["title"]["de"] == "</script><!--"
