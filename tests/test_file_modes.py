"""The instance folder is 0700 and what formflow writes into it 0600: the SQLite database
(with its -wal and -shm), the secret key and mail files hold personal data, password hashes
and keys. The process runs with the usual umask 022 here, so nothing is private by luck."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from engine.services import create_user, get_user
from web import create_app
from web.db import get_db
from workers.channels.mail import write_eml


def _mode(path: Path | str) -> str:
    return oct(stat.S_IMODE(os.stat(path).st_mode))


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_instance_folder_database_and_secret_key_are_private(
    clean_env: None, tmp_path: Path
) -> None:
    instance = tmp_path / "instance"
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance)})  # default SQLite file
    db = get_db(app)
    try:
        db.upgrade()
        create_user(db, "private@example.org", ["admin"], "a long password")  # a write
        assert get_user(db, "private@example.org").active  # a connection holds the WAL open
        sqlite = instance / "formflow.sqlite3"
        assert app.config["DATABASE_URL"] == f"sqlite:///{sqlite}"
        modes = {name: _mode(instance / name) for name in (
            ".", "secret_key", "formflow.sqlite3", "formflow.sqlite3-wal",
            "formflow.sqlite3-shm", "formflow.sqlite3.migrate.lock",
        )}
    finally:
        db.dispose()
    assert modes == {".": "0o700", "secret_key": "0o600", "formflow.sqlite3": "0o600",
                     "formflow.sqlite3-wal": "0o600", "formflow.sqlite3-shm": "0o600",
                     "formflow.sqlite3.migrate.lock": "0o600"}


def test_an_existing_open_folder_and_database_are_tightened(
    clean_env: None, tmp_path: Path
) -> None:
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    sqlite = instance / "formflow.sqlite3"
    sqlite.touch(mode=0o644)
    assert (_mode(instance), _mode(sqlite)) == ("0o755", "0o644")

    app = create_app({"TESTING": True, "INSTANCE_PATH": str(instance)})
    db = get_db(app)
    try:
        db.upgrade()
    finally:
        db.dispose()
    assert (_mode(instance), _mode(sqlite)) == ("0o700", "0o600")


def test_mail_files_and_their_folder_are_private(tmp_path: Path) -> None:
    mail = EmailMessage()
    mail["Subject"] = "Ihr Antrag"
    mail.set_content("personal data")
    written = write_eml(mail, tmp_path / "mail", "key-1")
    assert (_mode(tmp_path / "mail"), _mode(written)) == ("0o700", "0o600")
