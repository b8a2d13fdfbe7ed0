"""``formflow users set-password | invite | reset-2fa`` and what ``ensure-admin`` says
(issue 16)."""

from __future__ import annotations

from pathlib import Path

import pyotp
from flask import Flask
from flask.testing import FlaskCliRunner

from engine.services import Database, authenticate_user, get_user
from engine.services.account_links import check_link
from engine.services.two_factor import confirm_enrolment, new_secret
from support.account_mail import link_in, mails_to
from support.admin import COORDINATOR, PASSWORD, Browser
from web.cli import main

NEW_PASSWORD = "a new and long passphrase"


def test_set_password_from_stdin_ends_sessions(app: Flask, db: Database,
                                               runner: FlaskCliRunner) -> None:
    signed_in = Browser(app, COORDINATOR)
    result = runner.invoke(main, ["users", "set-password", COORDINATOR, "--password-stdin"],
                           input=NEW_PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert authenticate_user(db, COORDINATOR, NEW_PASSWORD) is not None
    assert signed_in.get("/inbox").status_code == 302
    assert get_user(db, COORDINATOR).local_login  # break-glass when local sign-in is off


def test_set_password_names_the_failed_rule(db: Database, runner: FlaskCliRunner) -> None:
    short = runner.invoke(main, ["users", "set-password", COORDINATOR, "--password-stdin"],
                          input="short\n")
    assert short.exit_code == 1 and "at least 12 characters" in short.output
    common = runner.invoke(main, ["users", "set-password", COORDINATOR, "--password-stdin"],
                           input="password1234\n")
    assert common.exit_code == 1 and "common passwords" in common.output
    assert authenticate_user(db, COORDINATOR, PASSWORD) is not None


def test_set_password_asks_twice_without_stdin(db: Database, runner: FlaskCliRunner) -> None:
    result = runner.invoke(main, ["users", "set-password", COORDINATOR],
                           input=f"{NEW_PASSWORD}\n{NEW_PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert NEW_PASSWORD not in result.output
    assert authenticate_user(db, COORDINATOR, NEW_PASSWORD) is not None


def test_invite_prints_the_link_when_mail_goes_to_files(app: Flask, db: Database,
                                                       runner: FlaskCliRunner) -> None:
    result = runner.invoke(main, ["users", "invite", "new@example.org", "--role", "admin"])
    assert result.exit_code == 0, result.output
    (mail,) = mails_to(app.instance_path, "new@example.org")
    link = link_in(mail)
    assert link in result.output
    assert get_user(db, "new@example.org").roles == ("admin",)
    assert check_link(db, link.rsplit("/", 1)[1])[0].purpose == "invite"


def test_invite_refuses_other_roles_and_taken_addresses(runner: FlaskCliRunner) -> None:
    other = runner.invoke(main, ["users", "invite", "x@example.org", "--role", "treasurer"])
    assert other.exit_code == 2
    taken = runner.invoke(main, ["users", "invite", COORDINATOR, "--role", "coordinator"])
    assert taken.exit_code == 1 and "already exists" in taken.output


def test_reset_2fa_removes_the_second_factor(db: Database, runner: FlaskCliRunner) -> None:
    user = get_user(db, COORDINATOR)
    secret = new_secret()
    confirm_enrolment(db, user.id, secret, pyotp.TOTP(secret).now())
    assert get_user(db, COORDINATOR).has_second_factor
    result = runner.invoke(main, ["users", "reset-2fa", COORDINATOR])
    assert result.exit_code == 0 and "removed" in result.output
    assert not get_user(db, COORDINATOR).has_second_factor
    again = runner.invoke(main, ["users", "reset-2fa", COORDINATOR])
    assert again.exit_code == 0 and "no second factor" in again.output
    unknown = runner.invoke(main, ["users", "reset-2fa", "nobody@example.org"])
    assert unknown.exit_code == 1


def test_ensure_admin_points_at_the_change_password_page(clean_env: None, tmp_path: Path
                                                         ) -> None:
    from web import create_app

    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path),
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                      "BASE_URL": "https://forms.example.org"})
    from web.db import get_db

    get_db(app).upgrade()
    result = app.test_cli_runner().invoke(main, ["users", "ensure-admin"])
    assert result.exit_code == 0, result.output
    assert "change it at https://forms.example.org/account" in result.output
    get_db(app).dispose()
