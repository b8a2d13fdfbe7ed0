"""The definitions' JSON Schemas at stable URLs with a real ``$id`` (issue 17): an editor that
follows ``$schema`` validates a definition file with the very schema the engine uses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from flask import Flask

from engine.definitions import check_form
from engine.schema import load_schema
from web import create_app

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def public_app(tmp_path: Path) -> Flask:
    return create_app({"INSTANCE_PATH": str(tmp_path), "TESTING": True,
                       "BASE_URL": "https://forms.example.org/"})


@pytest.mark.parametrize("name", ["form", "workflow"])
def test_schemas_are_served_with_the_id_of_their_url(public_app: Flask, name: str) -> None:
    response = public_app.test_client().get(f"/schemas/{name}.json")
    assert response.status_code == 200
    assert response.mimetype == "application/schema+json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    schema = json.loads(response.get_data())
    assert schema["$id"] == f"https://forms.example.org/schemas/{name}.json"
    assert {k: v for k, v in schema.items() if k != "$id"} == {
        k: v for k, v in load_schema(name).items() if k != "$id"}
    jsonschema.Draft202012Validator.check_schema(schema)


def test_unknown_schemas_are_404(public_app: Flask) -> None:
    client = public_app.test_client()
    assert client.get("/schemas/secret.json").status_code == 404
    assert client.get("/schemas/..%2Fconfig.json").status_code == 404


def test_a_shipped_form_naming_the_schema_is_valid_by_it_and_by_the_engine(
    public_app: Flask,
) -> None:
    schema: dict[str, Any] = public_app.test_client().get("/schemas/form.json").get_json(
        force=True)
    data = json.loads((ROOT / "forms" / "membership.json").read_text(encoding="utf-8"))
    data["$schema"] = schema["$id"]
    jsonschema.Draft202012Validator(schema).validate(data)
    assert [p for p in check_form(data) if p.severity == "error"] == []
    data["steps"][0]["fields"][0]["type"] = "slider"
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(data))
