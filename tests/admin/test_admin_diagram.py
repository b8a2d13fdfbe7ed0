"""engine.diagram: a workflow as well-formed SVG, one box per state, escaped labels."""

from __future__ import annotations

import copy
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from engine.diagram import layout_workflow, workflow_svg
from engine.workflows import load_workflow

ROOT = Path(__file__).resolve().parents[2]
SVG = "{http://www.w3.org/2000/svg}"


def shipped(name: str) -> dict[str, Any]:
    return json.loads((ROOT / "workflows" / f"{name}.json").read_text(encoding="utf-8"))


def groups(root: ET.Element, kind: str) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if kind in (g.get("class") or "").split()]


def test_one_node_per_state_and_one_arrow_per_source_and_target() -> None:
    workflow = load_workflow(shipped("review"))
    root = ET.fromstring(workflow_svg(workflow, "de"))
    assert root.tag == f"{SVG}svg"
    states = groups(root, "state")
    assert [g.get("data-state") for g in states] == ["submitted", "reviewed", "accepted",
                                                     "rejected"]
    arrows = {(g.get("data-from"), g.get("data-to")): g.get("data-transitions")
              for g in groups(root, "transition")}
    assert arrows == {
        ("submitted", "reviewed"): "review",
        ("reviewed", "accepted"): "accept",
        ("submitted", "rejected"): "reject",
        ("reviewed", "rejected"): "reject",
    }
    for arrow in groups(root, "transition"):
        path = arrow.find(f"{SVG}path")
        assert path is not None and path.get("marker-end") == "url(#wf-arrow)"
    labels = [t.text for t in root.iter(f"{SVG}text")]
    assert "Eingegangen" in labels and "Als geprüft markieren" in labels


def test_final_states_have_a_double_border_and_the_initial_a_marker() -> None:
    root = ET.fromstring(workflow_svg(load_workflow(shipped("review")), "de"))
    for group in groups(root, "state"):
        rects = group.findall(f"{SVG}rect")
        final = group.get("data-final") == "true"
        assert len(rects) == (2 if final else 1), group.get("data-state")
        assert all(r.get("rx") for r in rects)  # rounded boxes
    assert {g.get("data-state") for g in groups(root, "state") if g.get("data-final") == "true"} \
        == {"accepted", "rejected"}
    (marker,) = groups(root, "initial-marker")
    assert marker.get("data-to") == "submitted"


def test_layers_follow_breadth_first_distance_from_the_initial_state() -> None:
    layout = layout_workflow(load_workflow(shipped("review")))
    assert layout.layers == (("submitted",), ("reviewed", "rejected"), ("accepted",))
    boxes = layout.boxes
    assert boxes["submitted"].y < boxes["reviewed"].y == boxes["rejected"].y < boxes["accepted"].y
    assert boxes["reviewed"].x + boxes["reviewed"].width <= boxes["rejected"].x  # no overlap
    for box in boxes.values():
        assert 0 <= box.x and box.x + box.width <= layout.width
        assert 0 <= box.y and box.y + box.height <= layout.height


def test_every_label_is_escaped_and_the_result_still_parses() -> None:
    raw = shipped("review")
    raw["title"] = {"de": "A & B <Prüfung>"}
    raw["states"][0]["label"] = {"de": '<script>alert("x")</script> & bell'}
    raw["transitions"][0]["label"] = {"de": "]]> \"quoted\" 'single'"}
    svg = workflow_svg(load_workflow(raw), "de")
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    root = ET.fromstring(svg)  # well-formed despite everything
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert '<script>alert("x")</script> & bell' in texts
    assert "]]> \"quoted\" 'single'" in texts
    assert root.find(f"{SVG}title").text == "A & B <Prüfung>"


def test_back_edges_loops_and_guards_are_drawn() -> None:
    raw = shipped("review")
    raw["transitions"].append({"id": "reopen", "from": "reviewed", "to": "submitted",
                               "roles": ["coordinator"],
                               "when": {"field": "x", "op": "is_empty"}})
    raw["transitions"].append({"id": "touch", "from": "reviewed", "to": "reviewed",
                               "roles": ["coordinator"]})
    root = ET.fromstring(workflow_svg(load_workflow(raw), "en"))
    arrows = {(g.get("data-from"), g.get("data-to")): g for g in groups(root, "transition")}
    assert ("reviewed", "submitted") in arrows and ("reviewed", "reviewed") in arrows
    back = arrows[("reviewed", "submitted")]
    assert back.find(f"{SVG}text").text.endswith("[?]")  # guarded
    assert "only when its condition holds" in back.find(f"{SVG}title").text


def test_several_sources_and_an_id_prefix() -> None:
    raw = copy.deepcopy(shipped("registration"))
    root = ET.fromstring(workflow_svg(load_workflow(raw), "de", id_prefix="reg"))
    assert root.get("id") == "reg-diagram"
    assert len(groups(root, "state")) == len(raw["states"])
    cancel = [g for g in groups(root, "transition") if g.get("data-transitions") == "cancel"]
    assert len(cancel) == 3  # one arrow from each of its three source states


def test_the_same_definition_always_gives_the_same_picture() -> None:
    workflow = load_workflow(shipped("registration"))
    assert workflow_svg(workflow) == workflow_svg(load_workflow(shipped("registration")))
