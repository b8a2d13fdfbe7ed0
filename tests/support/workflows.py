"""Workflow definitions the workflow tests build on: the shipped files, the §3 example small
enough to break one thing at a time, and a form and workflow with a guard."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from engine.definitions import load_form
from engine.model import FormDefinition
from engine.workflows import check_workflow

__all__ = [
    "COORDINATOR",
    "base_workflow",
    "guard_form",
    "guarded_workflow",
    "problems",
    "shipped",
]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
COORDINATOR = ["coordinator"]


def shipped(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (PROJECT_ROOT / "workflows" / f"{name}.json").read_text(encoding="utf-8")
    )
    return data


def base_workflow() -> dict[str, Any]:
    """The example of DEFINITIONS §3, small enough to break one thing at a time."""
    return {
        "id": "review",
        "title": {"de": "Prüfung", "en": "Review"},
        "initial": "submitted",
        "states": [
            {"id": "submitted", "label": {"de": "Eingegangen", "en": "Submitted"}},
            {"id": "reviewed", "label": {"de": "Geprüft", "en": "Reviewed"}},
            {"id": "accepted", "label": "Angenommen", "final": True},
            {"id": "rejected", "label": "Abgelehnt", "final": True},
        ],
        "transitions": [
            {"id": "review", "from": "submitted", "to": "reviewed", "roles": ["coordinator"]},
            {"id": "accept", "from": "reviewed", "to": "accepted", "roles": ["coordinator"]},
            {"id": "reject", "from": ["submitted", "reviewed"], "to": "rejected",
             "roles": ["coordinator"], "comment": "required"},
        ],
        "notifications": [
            {"on": "submitted", "to": "applicant", "template": "received"},
            {"on": "rejected", "to": "applicant", "template": "received"},
        ],
        "templates": {"received": {"subject": "Danke", "body": "Hallo {{ answers.name }}"}},
    }


def problems(data: Any, severity: str = "error") -> list[str]:
    return [p.format() for p in check_workflow(data) if p.severity == severity]


def guard_form() -> FormDefinition:
    return load_form({
        "id": "grant",
        "title": "Förderantrag",
        "languages": ["de", "en"],
        "steps": [{"id": "main", "title": "Antrag", "fields": [
            {"id": "amount", "type": "number", "label": "Betrag"},
            {"id": "topic", "type": "select", "label": "Thema",
             "options": [{"value": "youth", "label": "Jugend"},
                         {"value": "art", "label": "Kunst"}]},
        ]}],
        "rules": [],
    })


def guarded_workflow(when: Any) -> dict[str, Any]:
    data = base_workflow()
    data["transitions"][1]["when"] = when
    return data
