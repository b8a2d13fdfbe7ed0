"""``formflow data export|erase|purge`` through the real CLI, on the shipped contact form:
the consent record, the export, the erasure down to the bytes of the SQLite files."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask
from flask.testing import FlaskCliRunner

from engine.services import add_comment, get_submission, submit
from web.cli import main
from web.db import get_db

NAME = "Gundula Wasserfall"
ADDRESS = "gundula.wasserfall@example.org"
COMMENT = "Rückruf bei Frau Wasserfall zur Heizkostenfrage"


def _contact(app: Flask, runner: FlaskCliRunner, name: str, address: str) -> str:
    db = get_db(app)
    created = submit(db, "contact", {
        "name": name, "email": address, "subject": "Frage",
        "message": f"Guten Tag, hier schreibt {name}.", "privacy_consent": True,
    }, "de")
    return created.id


def test_export_erase_and_purge_from_the_command_line(
    app: Flask, runner: FlaskCliRunner, tmp_path: Path
) -> None:
    assert runner.invoke(main, ["init"]).exit_code == 0
    db = get_db(app)
    mine = _contact(app, runner, NAME, ADDRESS)
    other = _contact(app, runner, "Bruno Nachbar", "bruno@example.org")
    add_comment(db, mine, "coord@example.org", COMMENT)
    consent = get_submission(db, mine).consents[0]
    assert consent["field"] == "privacy_consent" and consent["language"] == "de"
    assert consent["label"].startswith("Ich bin einverstanden, dass meine Angaben")

    out = tmp_path / "export.json"
    exported = runner.invoke(main, ["data", "export", "--email", ADDRESS.upper(), "-o", str(out)])
    assert exported.exit_code == 0, exported.output
    document = json.loads(out.read_text(encoding="utf-8"))
    assert out.stat().st_mode & 0o077 == 0
    [entry] = document["submissions"]
    assert entry["consents"] == [consent]
    assert "Bruno" not in out.read_text(encoding="utf-8")
    none = runner.invoke(main, ["data", "export", "--email", "nobody@example.org"])
    assert none.exit_code == 0 and json.loads(none.stdout)["submissions"] == []

    reference = get_submission(db, mine).reference
    unconfirmed = runner.invoke(main, ["data", "erase", "--reference", reference,
                                       "--reason", "Art. 17"])
    assert unconfirmed.exit_code == 1 and "--yes" in unconfirmed.stderr
    both = runner.invoke(main, ["data", "erase", "--reference", reference, "--email", ADDRESS,
                                "--reason", "x", "--yes"])
    assert both.exit_code == 1
    erased = runner.invoke(main, ["data", "erase", "--email", ADDRESS,
                                  "--reason", "Antrag per Brief", "--yes"])
    assert erased.exit_code == 0, erased.output
    assert f"erased {reference} (contact)" in erased.stdout
    assert "Wasserfall" not in erased.output

    path = db.sqlite_path
    assert path is not None
    wal = path.with_name(path.name + "-wal")
    content = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    for secret in (NAME, ADDRESS, COMMENT, "Wasserfall"):
        assert secret.encode() not in content, secret
    assert b"Bruno Nachbar" in content
    assert get_submission(db, other).answers["name"] == "Bruno Nachbar"

    dry = runner.invoke(main, ["data", "purge", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would erase 0 submission(s)" in dry.stdout
    unknown = runner.invoke(main, ["data", "erase", "--reference", "K-1999-00001",
                                   "--reason", "x", "--yes"])
    assert unknown.exit_code == 1 and "Error:" in unknown.stderr
