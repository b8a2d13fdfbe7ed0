"""The JSON Schemas of form and workflow definitions, published at stable URLs.

``/schemas/form.json`` and ``/schemas/workflow.json`` serve ``engine/schemas/*.schema.json``
— the schemas the engine validates with — with ``$id`` set to the URL they are served at under
``FORMFLOW_BASE_URL``. A definition file that names it (``"$schema":
"https://forms.example.org/schemas/form.json"``) is then checked by any editor that follows
``$schema`` (VS Code, JetBrains), with the same structure the engine demands; the engine's
further checks (unique ids, rules, reachable states) stay with ``formflow forms validate`` and
the admin editor. Public, read-only and cacheable: a schema holds no data of anyone.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Flask, Response, abort, current_app

from engine.schema import load_schema

__all__ = ["SCHEMA_NAMES", "bp", "init_app", "published_schema"]

SCHEMA_NAMES = ("form", "workflow")

bp = Blueprint("schemas", __name__)


def published_schema(name: str, base_url: str) -> dict[str, Any]:
    """Schema ``name`` with the ``$id`` of its URL under ``base_url``."""
    schema = load_schema(name)
    return {**schema, "$id": f"{base_url.rstrip('/')}/schemas/{name}.json"}


@bp.get("/schemas/<name>.json")
def schema(name: str) -> Response:
    if name not in SCHEMA_NAMES:
        abort(404)
    body = json.dumps(published_schema(name, current_app.config["BASE_URL"]),
                      ensure_ascii=False, indent=2)
    response = Response(body + "\n", mimetype="application/schema+json")
    response.headers["Cache-Control"] = "public, max-age=3600"
    # Web-based editors fetch it from their own origin; it is public and holds no data.
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
