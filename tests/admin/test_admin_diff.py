"""engine.diff: what changed between two versions, in sentences (German by default)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from engine.diff import diff_definitions, diff_forms, diff_workflows

ROOT = Path(__file__).resolve().parents[2]
MEMBERSHIP = json.loads((ROOT / "forms" / "membership.json").read_text(encoding="utf-8"))
REVIEW = json.loads((ROOT / "workflows" / "review.json").read_text(encoding="utf-8"))

BASE = {
    "id": "contact",
    "title": {"de": "Kontakt", "en": "Contact"},
    "languages": ["de", "en"],
    "steps": [
        {"id": "person", "title": {"de": "Person"}, "fields": [
            {"id": "name", "type": "text", "label": {"de": "Name"}, "required": True},
            {"id": "email", "type": "email", "label": {"de": "E-Mail"}},
        ]},
        {"id": "address", "title": {"de": "Adresse"}, "fields": [
            {"id": "street", "type": "text", "label": {"de": "Straße"}},
            {"id": "phone", "type": "tel", "label": {"de": "Telefon"}, "required": True},
            {"id": "topic", "type": "select", "label": {"de": "Thema"}, "options": [
                {"value": "a", "label": {"de": "A"}}, {"value": "b", "label": {"de": "B"}}]},
        ]},
    ],
    "rules": [{"when": {"field": "topic", "op": "equal_to", "value": "a"},
               "show": ["street"]}],
}


def texts(old: object, new: object, language: str = "de") -> list[str]:
    return [c.text for c in diff_forms(old, new, language)]


def changed(**edit: object) -> dict[str, object]:
    data = copy.deepcopy(BASE)
    data.update(edit)
    return data


def test_identical_versions_have_no_changes() -> None:
    assert diff_forms(BASE, copy.deepcopy(BASE)) == []
    assert diff_forms(MEMBERSHIP, copy.deepcopy(MEMBERSHIP)) == []
    assert diff_workflows(REVIEW, copy.deepcopy(REVIEW)) == []


def test_a_required_flag_change_in_the_words_of_the_brief() -> None:
    new = copy.deepcopy(BASE)
    del new["steps"][1]["fields"][1]["required"]
    changes = diff_forms(BASE, new)
    assert [c.text for c in changes] == [
        "Feld ‚phone' (Schritt ‚address'): Pflichtfeld ja → nein"]
    assert changes[0].kind == "changed"
    assert changes[0].pointer == "/steps/1/fields/1/required"


def test_labels_per_language_added_changed_removed() -> None:
    new = copy.deepcopy(BASE)
    new["steps"][0]["fields"][0]["label"] = {"de": "Vor- und Nachname", "en": "Full name"}
    new["title"] = {"de": "Kontakt"}
    assert texts(BASE, new) == [
        "Formular: Titel (en) entfernt",
        "Feld ‚name' (Schritt ‚person'): Beschriftung (de) ‚Name' → ‚Vor- und Nachname'",
        "Feld ‚name' (Schritt ‚person'): Beschriftung (en) hinzugefügt: ‚Full name'",
    ]


def test_steps_and_fields_added_removed_and_moved() -> None:
    new = copy.deepcopy(BASE)
    new["steps"].reverse()
    phone = new["steps"][0]["fields"].pop(1)
    new["steps"][1]["fields"].append(phone)
    new["steps"][1]["fields"].insert(0, {"id": "fax", "type": "tel", "label": "Fax"})
    del new["steps"][1]["fields"][2]  # email
    new["steps"].append({"id": "extra", "fields": []})
    result = texts(BASE, new)
    assert "Schritt ‚extra' hinzugefügt (Position 3)" in result
    assert "Schritt ‚address': Position 2 → 1" in result or \
        "Schritt ‚person': Position 1 → 2" in result
    assert "Feld ‚fax' (Schritt ‚person') hinzugefügt" in result
    assert "Feld ‚email' (Schritt ‚person') entfernt" in result
    assert "Feld ‚phone': Schritt ‚address' → ‚person'" in result
    # Fields that merely shifted because others came or went are not reported as moved.
    assert not any("street" in line for line in result)


def test_one_moved_field_is_one_change() -> None:
    new = copy.deepcopy(MEMBERSHIP)
    fields = new["steps"][0]["fields"]
    fields.insert(0, fields.pop(3))
    result = texts(MEMBERSHIP, new)
    assert len(result) == 1 and result[0].endswith(": Position 4 → 1")


def test_options_and_limits() -> None:
    new = copy.deepcopy(BASE)
    topic = new["steps"][1]["fields"][2]
    topic["options"] = [{"value": "b", "label": {"de": "Bee"}}, {"value": "c", "label": "C"}]
    new["steps"][0]["fields"][0]["max_length"] = 120
    new["steps"][1]["fields"][1]["type"] = "text"
    result = texts(BASE, new)
    assert "Feld ‚name' (Schritt ‚person'): Höchstlänge — → 120" in result
    assert "Feld ‚phone' (Schritt ‚address'): Typ ‚tel' → ‚text'" in result
    assert "Feld ‚topic' (Schritt ‚address'): Option ‚c' (‚C') hinzugefügt" in result
    assert "Feld ‚topic' (Schritt ‚address'): Option ‚a' entfernt" in result
    assert "Feld ‚topic' (Schritt ‚address'): Option ‚b': Beschriftung (de) ‚B' → ‚Bee'" in result


def test_rules_added_removed_and_changed_in_words() -> None:
    new = copy.deepcopy(BASE)
    new["rules"][0]["when"] = {"any": [{"field": "topic", "op": "one_of", "value": ["a", "b"]},
                                       {"field": "name", "op": "is_empty"}]}
    new["rules"].append({"when": {"not": {"field": "email", "op": "ends_with", "value": ".de"}},
                         "require": ["phone"]})
    result = texts(BASE, new)
    assert result == [
        "Regel geändert: zeige ‚street' wenn ‚topic' gleich ‚a' → zeige ‚street' wenn eine von "
        "(‚topic' ist eines von ‚a', ‚b'; ‚name' ist leer)",
        "Regel hinzugefügt: verlange ‚phone' wenn nicht (‚email' endet mit ‚.de')",
    ]
    assert texts(new, BASE)[-1] == (
        "Regel entfernt: verlange ‚phone' wenn nicht (‚email' endet mit ‚.de')")


def test_reordering_rules_changes_nothing() -> None:
    two = changed(rules=BASE["rules"] + [{"when": {"field": "name", "op": "is_empty"},
                                          "hide": ["email"]}])
    swapped = changed(rules=list(reversed(two["rules"])))
    assert diff_forms(two, swapped) == []


def test_english_wording() -> None:
    new = copy.deepcopy(BASE)
    new["steps"][1]["fields"][1]["required"] = False
    assert texts(BASE, new, "en") == ["Field 'phone' (Step 'address'): required yes → no"]


def test_workflow_changes_in_words() -> None:
    old = copy.deepcopy(REVIEW)
    old["notifications"].append({"on": "*", "webhook": "https://example.org/hook",
                                 "secret_env": "FORMFLOW_WEBHOOK_SECRET"})
    new = copy.deepcopy(old)
    new["transitions"][2]["comment"] = "none"
    new["transitions"][0]["when"] = {"field": "age", "op": "greater_or_equal", "value": 18}
    new["transitions"][1]["roles"] = ["coordinator", "board"]
    new["states"][2]["label"]["de"] = "Aufgenommen"
    new["states"].append({"id": "archived", "label": "Archiv", "final": True})
    new["transitions"].append({"id": "archive", "from": "*", "to": "archived", "roles": ["admin"]})
    new["notifications"].pop()
    new["templates"]["received"]["subject"]["en"] = "Thanks"
    new["templates"]["received"]["body"]["de"] = "Danke."
    result = [c.text for c in diff_workflows(old, new)]
    assert "Zustand ‚archived' hinzugefügt" in result
    assert "Zustand ‚accepted': Beschriftung (de) ‚Angenommen' → ‚Aufgenommen'" in result
    assert "Übergang ‚archive' (alle nicht-finalen Zustände → ‚archived') hinzugefügt" in result
    assert "Übergang ‚reject': Kommentar Pflicht → keiner" in result
    assert "Übergang ‚review': Bedingung — → ‚age' größer oder gleich 18" in result
    assert "Übergang ‚accept': Rollen coordinator → coordinator, board" in result
    assert ("Benachrichtigung entfernt: Webhook ‚https://example.org/hook' bei jedem Zustand"
            in result)
    assert any(line.startswith("Vorlage ‚received': Betreff (en) ‚We have received")
               and line.endswith("→ ‚Thanks'") for line in result)
    assert "Vorlage ‚received': Text (de) geändert" in result


def test_odd_input_is_compared_without_raising() -> None:
    assert diff_forms({}, {}) == []
    assert diff_forms(None, BASE)  # everything is new
    assert diff_forms({"steps": "x"}, {"steps": [1, {"id": 3}]}) == []
    assert diff_workflows([], {"states": [{"id": "a"}]})
    with pytest.raises(ValueError):
        diff_definitions("page", {}, {})


def test_long_texts_are_shortened() -> None:
    new = changed(title={"de": "x" * 500, "en": "Contact"})
    (line,) = texts(BASE, new)
    assert line.endswith("…'") and len(line) < 140
