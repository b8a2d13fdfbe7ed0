"""The hostile corpus against definition import and the administrators' editor (issue 14), on
SQLite and PostgreSQL: the editor's JSON endpoints, the upload form and ``formflow forms
import``.

Each hostile body — nested 100,000 deep, ``NaN``/``Infinity``, invalid UTF-8, a lone
surrogate (escaped and raw), a megabyte string — is answered with a 4xx and a message (the
CLI: exit 1 and one ``Error``/problem line), nothing is stored, and afterwards the staff and
admin pages still answer 200. Each answer took well under 1 s on a loaded 2-core machine; the
tests assert < 5 s so that they do not flake there.
"""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from support.api import STAFF, Api
from support.hostile_web import PASSWORD, assert_staff_pages_answer
from support.postgres import BOTH_BACKENDS
from support.signin import CSRF_INPUT, csrf_field, signed_in
from web.cli import main

pytestmark = BOTH_BACKENDS

LIMIT_SECONDS = 5.0
"""Generous: each answer took well under 1 s here; a loaded shared runner may be slower."""

DEFINITION_TABLES = ("definitions", "definition_versions", "editor_drafts")

HOSTILE_DEFINITIONS = {
    "nested-100000": b"[" * 100_000 + b"]" * 100_000,
    "nan": b'{"id": "membership", "x": NaN}',
    "infinity": b'{"id": "membership", "x": -Infinity}',
    "not-utf-8": b'{"id": "membership\xff"}',
    "raw-surrogate": b'{"id": "membership", "title": "x\xed\xa0\x80"}',
    "escaped-surrogate": b'{"id": "membership", "title": "x\\ud800"}',
    "nul": b'{"id": "membership", "title": "x\\u0000"}',
    "megabyte-string": b'{"id": "membership", "title": "' + b"x" * (1 << 20) + b'"}',
}
"""Definition documents; the editor's bodies carry them as ``{"definition": …}``."""


def definition_counts(sql: Any) -> dict[str, int]:
    with sql.connect() as connection:
        return {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in DEFINITION_TABLES}


def _csrf_header(admin: FlaskClient) -> dict[str, str]:
    page = admin.get("/admin/forms").get_data(as_text=True)
    found = CSRF_INPUT.search(page)
    assert found
    return {"X-CSRFToken": found.group(2) or found.group(3)}


def _after(api: Api, admin: FlaskClient, sql: Any, before: dict[str, int]) -> None:
    assert definition_counts(sql) == before
    for path in ("/admin/forms", "/admin/forms/membership/versions",
                 "/admin/forms/membership/edit", "/f/membership"):
        assert admin.get(path, follow_redirects=True).status_code == 200, path
    created = api.submit()["id"]
    assert_staff_pages_answer(api, signed_in(api.app, STAFF["coordinator"][0], PASSWORD),
                              created)


EDITOR_ENDPOINTS = [
    "/admin/forms/membership/draft",
    "/admin/forms/membership/check",
    "/admin/forms/membership/changes",
    "/admin/forms/membership/publish",
    "/admin/forms/membership/preview",
    "/admin/forms/membership/what-if",
    "/admin/workflows/review/what-if",
    "/admin/workflows/review/diagram",
]


@pytest.mark.parametrize("case", HOSTILE_DEFINITIONS)
def test_hostile_editor_bodies_are_4xx_with_a_message(
    api: Api, admin: FlaskClient, sql: Any, case: str
) -> None:
    headers = _csrf_header(admin)
    before = definition_counts(sql)
    body = b'{"definition": ' + HOSTILE_DEFINITIONS[case] + b', "answers": {}}'

    for path in EDITOR_ENDPOINTS:
        started = time.monotonic()
        response = admin.post(path, data=body, content_type="application/json", headers=headers)
        elapsed = time.monotonic() - started

        assert response.status_code in (400, 413), (path, response.status_code)
        answer = response.get_json()
        assert answer["message"] and answer["error"] in ("bad_request", "too_large"), path
        assert elapsed < LIMIT_SECONDS, (path, elapsed)

    _after(api, admin, sql, before)


@pytest.mark.parametrize("case", HOSTILE_DEFINITIONS)
def test_hostile_uploads_are_4xx(api: Api, admin: FlaskClient, sql: Any, case: str) -> None:
    page = admin.get("/admin/forms").get_data(as_text=True)
    before = definition_counts(sql)

    started = time.monotonic()
    response = admin.post(
        "/admin/forms/import",
        data={"definition_file": (io.BytesIO(HOSTILE_DEFINITIONS[case]), "hostile.json"),
              "publish": "on", **csrf_field(page)},
        content_type="multipart/form-data",
    )
    elapsed = time.monotonic() - started

    assert response.status_code in (413, 422), response.status_code
    assert elapsed < LIMIT_SECONDS
    _after(api, admin, sql, before)


@pytest.mark.parametrize("case", HOSTILE_DEFINITIONS)
def test_hostile_definition_files_are_refused_by_the_cli(
    api: Api, admin: FlaskClient, sql: Any, tmp_path: Path, case: str
) -> None:
    path = tmp_path / "hostile.json"
    path.write_bytes(HOSTILE_DEFINITIONS[case])
    before = definition_counts(sql)

    started = time.monotonic()
    result = api.app.test_cli_runner().invoke(main, ["forms", "import", str(path), "--publish"])
    elapsed = time.monotonic() - started

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # no traceback
    assert result.stderr.strip()
    assert "Traceback" not in result.output
    assert elapsed < LIMIT_SECONDS
    _after(api, admin, sql, before)
