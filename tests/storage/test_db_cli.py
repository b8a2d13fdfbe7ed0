"""``formflow init``, definitions in and out, users and tokens — through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner

from engine.services import (
    Database,
    authenticate_user,
    get_submission,
    list_published,
    submit,
    user_for_token,
)
from support.storage import FORM, VALID_ANSWERS, WORKFLOW, form, publish_test_definitions
from web.cli import main
from web.db import get_db

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, name: str, data: object) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def test_init_creates_the_database_and_imports_the_shipped_definitions(
    runner: FlaskCliRunner, app: Flask
) -> None:
    first = runner.invoke(main, ["init"])
    assert first.exit_code == 0, first.output
    assert "Database ready" in first.stdout
    assert "form membership: version 1 (new version, published)" in first.stdout
    assert "workflow review: version 1 (new version, published)" in first.stdout

    second = runner.invoke(main, ["init"])
    assert second.exit_code == 0, second.output
    assert "form membership: version 1 (published)" in second.stdout
    shipped = sorted(p.stem for p in (PROJECT_ROOT / "forms").glob("*.json"))
    db = get_db(app)
    assert sorted(r.definition_id for r in list_published(db, "form")) == shipped
    assert all(r.version == 1 for r in list_published(db, "form"))


def test_import_export_publish(runner: FlaskCliRunner, app: Flask, tmp_path: Path) -> None:
    assert runner.invoke(main, ["init", "--no-import"]).exit_code == 0
    workflow_file = _write(tmp_path, "review.json", WORKFLOW)
    form_file = _write(tmp_path, "membership.json", FORM)

    refused = runner.invoke(main, ["forms", "publish", "membership"])
    assert refused.exit_code == 1 and "Error:" in refused.stderr

    done = runner.invoke(main, ["workflows", "import", workflow_file, "--publish"])
    assert done.exit_code == 0, done.output
    assert "workflow review: version 1 published" in done.stdout
    done = runner.invoke(main, ["forms", "import", form_file])
    assert done.exit_code == 0 and "version 1 (new version)" in done.stdout
    again = runner.invoke(main, ["forms", "import", form_file])
    assert "unchanged, no new version" in again.stdout
    published = runner.invoke(main, ["forms", "publish", "membership"])
    assert published.exit_code == 0, published.output

    exported = runner.invoke(main, ["forms", "export", "membership"])
    assert exported.exit_code == 0 and json.loads(exported.stdout) == FORM
    out = tmp_path / "out.json"
    assert runner.invoke(main, ["workflows", "export", "review", "-o", str(out)]).exit_code == 0
    assert json.loads(out.read_text("utf-8")) == WORKFLOW

    missing = runner.invoke(main, ["forms", "export", "nope"])
    assert missing.exit_code == 1 and "Error: there is no form 'nope'" in missing.stderr


def test_a_refused_file_prints_every_problem_and_stores_nothing(
    runner: FlaskCliRunner, app: Flask, tmp_path: Path
) -> None:
    assert runner.invoke(main, ["init", "--no-import"]).exit_code == 0
    bad = _write(tmp_path, "bad.json", form(rules=[{"when": {"field": "ghost", "op": "is_empty"},
                                                    "show": ["name"]}]))
    result = runner.invoke(main, ["forms", "import", bad])
    assert result.exit_code == 1
    assert f"{bad}: /rules/0/when" in result.stderr and "nothing was stored" in result.stderr
    assert "Traceback" not in result.output
    with get_db(app).read() as store:
        assert store.definitions.latest("form", "membership") is None


def test_users_and_tokens(runner: FlaskCliRunner, app: Flask) -> None:
    assert runner.invoke(main, ["init", "--no-import"]).exit_code == 0
    created = runner.invoke(main, ["users", "create", "Coord@Example.org", "--role",
                                   "coordinator", "--password-stdin"],
                            input="a long enough secret\n")
    assert created.exit_code == 0, created.output
    assert "created user coord@example.org (roles: coordinator)" in created.stdout
    db = get_db(app)
    assert authenticate_user(db, "coord@example.org", "a long enough secret") is not None

    duplicate = runner.invoke(main, ["users", "create", "coord@example.org", "--role", "admin"])
    assert duplicate.exit_code == 1 and "already exists" in duplicate.stderr

    generated = runner.invoke(main, ["users", "create", "admin@example.org", "--role", "admin"])
    assert generated.exit_code == 0, generated.output
    password = generated.stdout.split("password: ", 1)[1].strip()
    assert authenticate_user(db, "admin@example.org", password) is not None

    token_run = runner.invoke(main, ["tokens", "create", "coord@example.org"])
    assert token_run.exit_code == 0, token_run.output
    token = token_run.stdout.strip()
    user = user_for_token(db, token)
    assert user is not None and user.email == "coord@example.org"
    assert runner.invoke(main, ["tokens", "create", "ghost@example.org"]).exit_code == 1


def test_commands_on_an_uninitialised_database_say_what_to_do(runner: FlaskCliRunner) -> None:
    result = runner.invoke(main, ["users", "create", "a@example.org", "--role", "admin"])
    assert result.exit_code == 1
    assert "run `formflow init`" in result.stderr
    assert "Traceback" not in result.output


def test_the_app_answers_503_when_storage_is_unavailable(app: Flask) -> None:
    """Database never initialised: a view that reads it gets a plain 503, then works."""
    app.add_url_rule("/probe/<sid>", "probe",
                     lambda sid: {"state": get_submission(get_db(), sid).state})
    response = app.test_client().get("/probe/" + "0" * 32)
    assert response.status_code == 503
    assert response.json is not None and response.json["error"] == "storage_unavailable"
    assert "formflow init" in response.json["message"]
    assert response.headers["Retry-After"] == "5"
    db: Database = get_db(app)
    db.upgrade()  # the operator runs `formflow init`; the same request now succeeds
    publish_test_definitions(db)
    sid = submit(db, "membership", VALID_ANSWERS, "de").id
    response = app.test_client().get(f"/probe/{sid}")
    assert response.status_code == 200 and response.json == {"state": "submitted"}
