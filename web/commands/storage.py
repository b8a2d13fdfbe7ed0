"""``formflow`` commands over the database: init, definitions in and out, users, API tokens.

Every command goes through ``engine.services`` — the same code the web app and the API use —
so validation and the audit trail are never skipped. Errors are one ``Error: …`` line (exit
code 1), problems of a definition one ``FILE: POINTER: message`` line each.
"""

from __future__ import annotations

import functools
import json
import secrets
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, ParamSpec, TypeVar, cast

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from engine.exceptions import DefinitionError, FormflowError

if TYPE_CHECKING:  # SQLAlchemy is imported only when a database command actually runs
    from engine.problems import Problem
    from engine.records import DefinitionKind
    from engine.services import Database

__all__ = ["register"]

P = ParamSpec("P")
R = TypeVar("R")


def register(main: click.Group, forms: click.Group, workflows: click.Group) -> None:
    """Attach the database commands to the ``formflow`` CLI groups (called by web.cli)."""
    main.add_command(init_command)
    main.add_command(users)
    main.add_command(tokens)
    for group, kind in ((forms, "form"), (workflows, "workflow")):
        for make in (_import_command, _export_command, _publish_command):
            group.add_command(make(cast("DefinitionKind", kind)))


def _engine_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Engine errors become ``Error: message`` and exit code 1 — never a stack trace."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except FormflowError as exc:
            _fail(str(exc))

    return wrapper


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _db() -> Database:
    from web.db import get_db

    return get_db(current_app)


def _print_problems(source: str, problems: tuple[Problem, ...] | list[Problem]) -> None:
    for problem in problems:
        mark = "warning: " if problem.severity == "warning" else ""
        click.echo(f"{source}: {problem.pointer or '/'}: {mark}{problem.message}", err=True)


# -- init -----------------------------------------------------------------------------------


@click.command("init")
@click.option("--no-import", is_flag=True, help="Only create or upgrade the database.")
@with_appcontext
@_engine_errors
def init_command(no_import: bool) -> None:
    """Create or upgrade the database, then import forms/ and workflows/.

    Each definition file whose content changed becomes a new published version; unchanged
    files create nothing, so running init again is harmless. Exits 1 when a file is refused.
    """
    from engine.services import import_directory

    db = _db()
    path = db.sqlite_path
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    db.upgrade()
    click.echo(f"Database ready: {db.url} (schema {db.current_revision()})")
    if no_import:
        return
    outcomes = import_directory(
        db, current_app.config.get("FORMS_DIR"), current_app.config.get("WORKFLOWS_DIR"),
        actor="cli",
    )
    refused = 0
    for outcome in outcomes:
        if outcome.ok and outcome.result is not None:
            result = outcome.result
            what = "new version, published" if result.created else (
                "published" if result.published else "unchanged")
            click.echo(f"{outcome.kind} {result.id}: version {result.version} ({what})")
            _print_problems(str(outcome.path), outcome.problems)
        else:
            refused += 1
            _print_problems(str(outcome.path), outcome.problems)
    if refused:
        _fail(f"{refused} definition file(s) refused; the others were imported")


# -- definitions ------------------------------------------------------------------------------


def _import_command(kind: DefinitionKind) -> click.Command:
    @click.command("import")
    @click.argument("file", metavar="FILE")
    @click.option("--publish", is_flag=True, help="Publish the imported version right away.")
    @with_appcontext
    @_engine_errors
    def import_file(file: str, publish: bool) -> None:
        from engine.services import import_definition
        from web.cli import UnreadableFile, read_json_file

        try:
            data = read_json_file(file)
        except UnreadableFile as exc:
            _fail(f"{file}: {exc}")
        db = _db()
        try:
            result = import_definition(db, data, kind, actor="cli")
        except DefinitionError as exc:
            _print_problems(file, exc.problems)
            _fail(f"{file} was refused; nothing was stored")
        _print_problems(file, result.warnings)
        state = "new version" if result.created else "unchanged, no new version"
        click.echo(f"{kind} {result.id}: version {result.version} ({state})")
        if publish:
            _publish(db, kind, result.id, result.version, file)

    import_file.help = (
        f"Import a {kind} definition file as its next version (not yet published).\n\n"
        "The file is validated first; when it is refused, every problem is printed and "
        "nothing is stored. Unchanged content creates no new version."
    )
    return import_file


def _export_command(kind: DefinitionKind) -> click.Command:
    @click.command("export")
    @click.argument("definition_id", metavar="ID")
    @click.option("--version", "version", type=click.IntRange(1), help="Default: the newest.")
    @click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True),
                  help="Write to this file instead of standard output.")
    @with_appcontext
    @_engine_errors
    def export(definition_id: str, version: int | None, output: str | None) -> None:
        from engine.services import export_definition

        data = export_definition(_db(), kind, definition_id, version)
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if output:
            Path(output).write_text(text, encoding="utf-8")
        else:
            click.echo(text, nl=False)

    export.help = f"Print a stored {kind} definition as JSON (as it was imported)."
    return export


def _publish_command(kind: DefinitionKind) -> click.Command:
    @click.command("publish")
    @click.argument("definition_id", metavar="ID")
    @click.option("--version", "version", type=click.IntRange(1), help="Default: the newest.")
    @with_appcontext
    @_engine_errors
    def publish(definition_id: str, version: int | None) -> None:
        _publish(_db(), kind, definition_id, version, definition_id)

    publish.help = (
        f"Publish a stored {kind} version (default: the newest) for new submissions."
        + (" The form's workflow must be published and its guards must fit the form."
           if kind == "form" else "")
    )
    return publish


def _publish(
    db: Database, kind: DefinitionKind, definition_id: str, version: int | None, source: str
) -> None:
    from engine.services import publish_definition

    try:
        result = publish_definition(db, kind, definition_id, version, actor="cli")
    except DefinitionError as exc:
        _print_problems(source, exc.problems)
        _fail(f"{kind} {definition_id} was not published")
    click.echo(f"{kind} {result.id}: version {result.version} published")


# -- users and tokens ---------------------------------------------------------------------------


@click.group(cls=AppGroup)
def users() -> None:
    """Staff accounts (coordinators, administrators)."""


@users.command("create")
@click.argument("email")
@click.option("--role", "roles", multiple=True, required=True, metavar="ROLE",
              help="coordinator or admin (or a custom workflow role); repeat for several.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
@_engine_errors
def create_user_command(email: str, roles: tuple[str, ...], password_stdin: bool) -> None:
    """Create a user; without --password-stdin a random password is generated and printed."""
    from engine.services import create_user

    generated = not password_stdin
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = secrets.token_urlsafe(15)
    user = create_user(_db(), email, roles, password, actor="cli")
    click.echo(f"created user {user.email} (roles: {', '.join(user.roles)})")
    if generated:
        click.echo(f"password: {password}")


def _read_new_password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("New password", hide_input=True, confirmation_prompt=True))


@users.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input.")
@_engine_errors
def set_password_command(email: str, password_stdin: bool) -> None:
    """Set EMAIL's password (at least 12 characters, not a common one); every session of the
    user ends. The user may then sign in with it even when FORMFLOW_LOCAL_LOGIN=false
    (break-glass)."""
    from engine.services import set_password

    set_password(_db(), email, _read_new_password(password_stdin), local=True, actor="cli")
    click.echo(f"password of {email.strip().lower()} set; their sessions have ended")


@users.command("invite")
@click.argument("email")
@click.option("--role", "role", required=True, type=click.Choice(["coordinator", "admin"]),
              help="The new user's role.")
@_engine_errors
def invite_command(email: str, role: str) -> None:
    """Create EMAIL with ROLE and mail them a link to set a password (valid 7 days). Without
    FORMFLOW_SMTP_URL the mail is written to the instance's mail folder and the link printed."""
    from engine.services.account_links import invite_user
    from web.account_mail import send_link_mail

    issued = invite_user(_db(), email, [role], actor="cli")
    try:
        sent = send_link_mail(current_app, issued, "de")
    except Exception as exc:  # noqa: BLE001 - the user exists; the operator can send again
        _fail(f"{issued.user.email} was created, but the invitation mail failed ({exc}); "
              "send it again from the users page")
    click.echo(f"invited {issued.user.email} (roles: {', '.join(issued.user.roles)})")
    if sent.to_file:
        click.echo(f"no SMTP server set: the mail was written to the mail folder; link: {sent.url}")


@users.command("reset-2fa")
@click.argument("email")
@_engine_errors
def reset_two_factor_command(email: str) -> None:
    """Remove EMAIL's second factor (e.g. for the last administrator who lost theirs)."""
    from engine.services.two_factor import reset_second_factor

    if reset_second_factor(_db(), email, actor="cli"):
        click.echo(f"second factor of {email.strip().lower()} removed")
    else:
        click.echo(f"{email.strip().lower()} has no second factor")


@click.group(cls=AppGroup)
def tokens() -> None:
    """API tokens for coordinators and administrators."""


@tokens.command("create")
@click.argument("email")
@_engine_errors
def create_token_command(email: str) -> None:
    """Print a new API token for EMAIL; it is stored only as a hash, so keep it now."""
    from engine.services import create_api_token

    token, _ = create_api_token(_db(), email, actor="cli")
    click.echo(token)
    click.echo("Store this token now: it cannot be shown again.", err=True)

