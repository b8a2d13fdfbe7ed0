"""The ``formflow`` command line: a Flask CLI group over the app factory.

Commands that only read definition files (``forms validate``, ``forms evaluate``,
``workflows validate``) never build the app, so they work anywhere, even where the instance
folder is not writable or production settings are incomplete. Commands that need the app
(database, users, ...) belong in the same groups and use ``@with_appcontext`` — the default for
``@forms.command()`` and ``@workflows.command()``; pass ``with_appcontext=False`` to opt out.

Exit codes: 0 success, 1 the input is wrong (invalid definition, unreadable file), 2 the
command line itself is wrong (click's usage errors).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import click
from flask import Flask
from flask.cli import AppGroup, FlaskGroup, NoAppException, ScriptInfo, pass_script_info

from web.commands.data import register as register_data_commands
from web.commands.storage import register as register_storage_commands
from web.commands.worker import register as register_worker_commands

__all__ = [
    "FileProblem",
    "forms",
    "init_app",
    "main",
    "read_json_file",
    "run_command",
    "validate_files",
    "workflows",
]


class ConfigurationFailed(NoAppException):
    """The app refused to start; shown as a plain ``Error: …`` line with exit code 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"Error: {self.format_message()}", err=True)


def _create_app() -> Flask:
    from web import create_app
    from web.config import ConfigError

    try:
        return create_app()
    except ConfigError as exc:
        raise ConfigurationFailed(str(exc)) from None


@click.group(cls=FlaskGroup, create_app=_create_app)
def main() -> None:
    """formflow: multi-step forms with review workflows.

    Configuration comes from FORMFLOW_* environment variables (see README.md).
    """


@click.group(cls=AppGroup)
def forms() -> None:
    """Form definitions: validate and try them out."""


@click.group(cls=AppGroup)
def workflows() -> None:
    """Workflow definitions."""


main.add_command(forms)
main.add_command(workflows)
register_storage_commands(main, forms, workflows)  # init, forms import/…, users, tokens
register_worker_commands(main)  # worker, outbox relay|retry|list, users ensure-admin
register_data_commands(main)  # data check [--repair]


def init_app(app: Flask) -> None:
    """Make the command groups reachable through ``app.cli`` too (``app.test_cli_runner``)."""
    app.cli.add_command(forms)
    app.cli.add_command(workflows)


# --- reading definition files -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileProblem:
    """A problem found in one file: what ``validate`` prints, one per line or as JSON."""

    file: str
    pointer: str
    message: str
    severity: str = "error"

    def format(self) -> str:
        mark = "warning: " if self.severity == "warning" else ""
        return f"{self.file}: {self.pointer or '/'}: {mark}{self.message}"

    def as_json(self) -> dict[str, str]:
        return {
            "file": self.file,
            "pointer": self.pointer,
            "message": self.message,
            "severity": self.severity,
        }


class UnreadableFile(Exception):
    """A file that could not be read or is not JSON; the message says why, for people."""


def read_json_file(path: str) -> Any:
    """The parsed JSON of ``path``; ``UnreadableFile`` with a one-line reason otherwise."""
    try:
        raw = Path(path).read_bytes()
    except IsADirectoryError:
        raise UnreadableFile("is a folder, not a file") from None
    except FileNotFoundError:
        raise UnreadableFile("no such file") from None
    except OSError as exc:
        raise UnreadableFile(f"cannot be read: {exc.strerror or exc}") from None
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise UnreadableFile(
            f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except UnicodeDecodeError:
        raise UnreadableFile("not valid JSON: the file is not UTF-8 text") from None
    except RecursionError:
        raise UnreadableFile("not a definition: nested far too deeply") from None
    except ValueError as exc:  # NaN/Infinity, or an integer of thousands of digits
        raise UnreadableFile(f"not valid JSON: {exc}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _expand(paths: Iterable[str]) -> Iterator[str]:
    """Each path as given; a folder stands for the ``*.json`` files directly inside it."""
    for path in paths:
        folder = Path(path)
        if folder.is_dir():
            yield from (str(p) for p in sorted(folder.glob("*.json")))
        else:
            yield path


def validate_files(paths: Iterable[str], check: Callable[[Any], list[Any]]) -> list[FileProblem]:
    """Every problem of every file, in file order; ``check`` is the engine's checker."""
    found: list[FileProblem] = []
    for path in paths:
        try:
            data = read_json_file(path)
        except UnreadableFile as exc:
            found.append(FileProblem(path, "", str(exc)))
            continue
        for problem in check(data):
            found.append(FileProblem(path, problem.pointer, problem.message, problem.severity))
    return found


def _report(problems: list[FileProblem], as_json: bool, checked: int) -> None:
    errors = sum(1 for p in problems if p.severity == "error")
    if as_json:
        click.echo(json.dumps([p.as_json() for p in problems], ensure_ascii=False, indent=2))
    else:
        for problem in problems:
            click.echo(problem.format())
        warnings = len(problems) - errors
        click.echo(
            f"{checked} file(s) checked: {errors} error(s), {warnings} warning(s).", err=True
        )
    if errors:
        sys.exit(1)


_FILES = click.argument("files", nargs=-1, required=True, metavar="FILE...")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print a JSON list of problems.")


@forms.command("validate", with_appcontext=False)
@_FILES
@_JSON
def forms_validate(files: tuple[str, ...], as_json: bool) -> None:
    """Check form definition files; a folder means its *.json files.

    Prints one line per problem (FILE: POINTER: message); exits 1 when any file has an error.
    Warnings are printed too but don't change the exit code.
    """
    from engine.definitions import check_form

    paths = list(_expand(files))
    _report(validate_files(paths, check_form), as_json, len(paths))


@workflows.command("validate", with_appcontext=False)
@_FILES
@_JSON
def workflows_validate(files: tuple[str, ...], as_json: bool) -> None:
    """Check workflow definition files; a folder means its *.json files.

    Prints one line per problem (FILE: POINTER: message); exits 1 when any file has an error.
    """
    from engine.workflows import check_workflow

    paths = list(_expand(files))
    _report(validate_files(paths, check_workflow), as_json, len(paths))


@forms.command("evaluate", with_appcontext=False)
@click.argument("form_file", metavar="FORM.json")
@click.option(
    "--answers",
    "answers_file",
    required=True,
    metavar="ANSWERS.json",
    help="A JSON object of answers keyed by field id.",
)
@click.option("--language", help="Language of the error messages (default: the form's first).")
def forms_evaluate(form_file: str, answers_file: str, language: str | None) -> None:
    """Show what the form makes of a set of answers.

    Prints visible fields and steps, required and invalid fields, the answers that would be
    stored (null while any field is invalid) and the error messages, as JSON.
    """
    from engine.definitions import check_form, load_form
    from engine.evaluation import evaluate
    from engine.exceptions import DefinitionError

    data = _read_or_fail(form_file)
    answers = _read_or_fail(answers_file)
    if not isinstance(answers, dict):
        _fail([FileProblem(answers_file, "", "the answers must be a JSON object")])
    try:
        form = load_form(data)
    except DefinitionError as exc:
        _fail([FileProblem(form_file, p.pointer, p.message, p.severity) for p in exc.problems])
    if language is not None and language not in form.languages:
        raise click.BadParameter(
            f"{language!r} is not one of the form's languages ({', '.join(form.languages)})",
            param_hint="--language",
        )
    for problem in check_form(data):
        if problem.severity == "warning":
            click.echo(FileProblem(form_file, problem.pointer, problem.message,
                                   problem.severity).format(), err=True)
    result = evaluate(form, answers, language).as_json()
    click.echo(json.dumps(result, ensure_ascii=False, indent=2))


def _read_or_fail(path: str) -> Any:
    try:
        return read_json_file(path)
    except UnreadableFile as exc:
        _fail([FileProblem(path, "", str(exc))])


def _fail(problems: list[FileProblem]) -> NoReturn:
    for problem in problems:
        click.echo(problem.format(), err=True)
    sys.exit(1)


# --- run ----------------------------------------------------------------------------------


@click.command("run")
@click.option("--host", "-h", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", "-p", default=5000, show_default=True, type=click.IntRange(1, 65535),
              help="Port to listen on.")
@click.option("--no-worker", is_flag=True, help="Don't start a notification worker.")
@pass_script_info
def run_command(info: ScriptInfo, host: str, port: int, no_worker: bool) -> None:
    """Start the web app (development server) and a notification worker; print the address.

    The worker is a supervised child process (restarted if it dies, stopped with the server);
    without FORMFLOW_REDIS_URL the instance folder's embedded Redis is started for it. Without
    FORMFLOW_BASE_URL, links in mails point at the host and port served here. The
    development server is meant for trying formflow out; in production run the app under a
    WSGI server (``web:create_app()``) and the workers with ``formflow worker``.
    """
    import os
    import signal

    from werkzeug.serving import run_simple

    from web.commands.supervisor import start_worker

    app = info.load_app()
    shown_host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    if not os.environ.get("FORMFLOW_BASE_URL"):
        # Unless the operator said otherwise, links in mails lead to the server started here
        # (the worker below is told the same).
        app.config["BASE_URL"] = f"http://{shown_host}:{port}"
    supervisor, started_redis = (None, False) if no_worker else start_worker(app)

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt  # SIGTERM ends the server like Ctrl+C: the worker stops too

    signal.signal(signal.SIGTERM, interrupt)
    click.echo(f"formflow is running at http://{shown_host}:{port}/  (Ctrl+C to stop)"
               + ("" if supervisor is None else f"; notification worker pid {supervisor.pid}"))
    try:
        run_simple(
            host,
            port,
            app,
            use_reloader=False,
            use_debugger=app.debug,
            threaded=True,
        )
    except KeyboardInterrupt:
        pass
    finally:
        if supervisor is not None:
            click.echo("stopping the notification worker…", err=True)
            supervisor.stop()
        if started_redis:
            from workers.embedded import stop_embedded_redis

            stop_embedded_redis(app.instance_path)


main.add_command(run_command)
