"""``formflow data check [--repair]`` on SQLite and PostgreSQL (issue 14).

Rows holding text formflow refuses today are written here with SQL, as an older version could
have. What each backend can hold differs: JSON columns (answers) hold escaped lone surrogates
and NUL on both; a text column (comments, outbox columns) holds NUL on SQLite but not on
PostgreSQL (which refuses NUL in text), and a lone surrogate on neither (the drivers cannot
encode it as UTF-8) — so comments and outbox rows are tested with other control characters.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from engine.services import save_draft
from support.api import MEMBERSHIP_ANSWERS, STAFF, Api
from support.hostile_web import PASSWORD, assert_staff_pages_answer
from support.postgres import BOTH_BACKENDS
from support.signin import signed_in
from web.cli import main

pytestmark = BOTH_BACKENDS

PERSONAL = "Ada"
"""Part of every bad text: the command's output must never show it."""


def _check(app: Flask, *args: str) -> Any:
    return app.test_cli_runner().invoke(main, ["data", "check", *args])


def _spoil(sql: Any, backend: str, api: Api) -> dict[str, Any]:
    """A submission, a draft, a comment and an outbox row holding refused text."""
    created = api.submit()
    fired = api.fire(created["id"], "reject", comment="fine")
    assert fired.status_code == 200
    draft = save_draft(api.db, "membership", {"name": "Ada"})
    json_value = "CAST(:v AS JSON)" if backend == "postgresql" else ":v"
    control = "\x00" if backend == "sqlite" else "\x01"  # PostgreSQL text holds no NUL
    answers = dict(MEMBERSHIP_ANSWERS, name="Ada \ud800 Lovelace", institution="Ada\x00x")
    with sql.begin() as c:
        c.execute(text(f"UPDATE submissions SET answers = {json_value} WHERE id = :id"),
                  {"v": json.dumps(answers), "id": created["id"]})
        c.execute(text(f"UPDATE drafts SET answers = {json_value} WHERE token_hash IS NOT NULL"),
                  {"v": json.dumps({"name": "Ada\x1b[31m", "notes": ["ok", "Ada\udc00"]})})
        event_id = c.execute(text("SELECT id FROM events WHERE comment = 'fine'")).scalar_one()
        c.execute(text("UPDATE events SET comment = :v WHERE id = :id"),
                  {"v": f"Ada{control}x", "id": event_id})
        outbox_id = c.execute(text("SELECT min(id) FROM outbox")).scalar_one()
        c.execute(text("UPDATE outbox SET last_error = :v WHERE id = :id"),
                  {"v": "Ada\x07 refused", "id": outbox_id})
    return {"submission": created, "draft": draft, "event": event_id, "outbox": outbox_id}


def test_check_lists_rows_without_their_text_and_repair_replaces_each_character(
    api: Api, sql: Any, backend: str
) -> None:
    clean = _check(api.app)
    assert clean.exit_code == 0, clean.output
    assert clean.stdout == ""
    spoiled = _spoil(sql, backend, api)
    reference = spoiled["submission"]["reference"]

    found = _check(api.app)

    assert found.exit_code == 1
    lines = found.stdout.splitlines()
    assert (f"submission {spoiled['submission']['id']} ({reference}): "
            "answers/name, answers/institution") in lines
    assert any(line.startswith("draft ") and line.endswith(": answers/name, answers/notes/1")
               for line in lines)
    assert f"event {spoiled['event']} ({reference}): comment" in lines
    assert f"outbox {spoiled['outbox']}: last_error" in lines
    assert len(lines) == 4
    assert PERSONAL not in found.stdout and PERSONAL not in found.stderr

    repaired = _check(api.app, "--repair")

    assert repaired.exit_code == 0, repaired.stderr
    assert len(repaired.stdout.splitlines()) == 4
    assert all(line.startswith("repaired ") for line in repaired.stdout.splitlines())
    assert PERSONAL not in repaired.stdout
    assert _check(api.app).exit_code == 0
    with sql.connect() as c:
        answers = c.execute(text("SELECT answers FROM submissions WHERE id = :id"),
                            {"id": spoiled["submission"]["id"]}).scalar_one()
        answers = json.loads(answers) if isinstance(answers, str) else answers
        comment = c.execute(text("SELECT comment FROM events WHERE id = :id"),
                            {"id": spoiled["event"]}).scalar_one()
        last_error = c.execute(text("SELECT last_error FROM outbox WHERE id = :id"),
                               {"id": spoiled["outbox"]}).scalar_one()
    assert answers["name"] == "Ada \ufffd Lovelace" and answers["institution"] == "Ada\ufffdx"
    assert answers["email"] == MEMBERSHIP_ANSWERS["email"]  # the rest as it was
    assert comment == "Ada\ufffdx"
    assert last_error == "Ada\ufffd refused"
    staff: FlaskClient = signed_in(api.app, STAFF["coordinator"][0], PASSWORD)
    assert_staff_pages_answer(api, staff, spoiled["submission"]["id"])
