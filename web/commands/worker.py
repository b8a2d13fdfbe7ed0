"""``formflow worker``, ``formflow outbox relay|retry|list`` and ``formflow users ensure-admin``.

The worker reads the same configuration as the web app (``FORMFLOW_*``, the instance folder,
the secret key) so that it reaches the same database and Redis and can rebuild the applicant's
status link. Errors are one ``Error: …`` line and exit code 1, never a stack trace.
"""

from __future__ import annotations

import functools
import logging
import os
import secrets
import signal
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, NoReturn, ParamSpec, TypeVar

import click
from flask import Flask, current_app
from flask.cli import AppGroup, ScriptInfo, pass_script_info, with_appcontext

from engine.exceptions import FormflowError

if TYPE_CHECKING:
    from redis import Redis

    from engine.services import Database

__all__ = ["register"]

DEFAULT_ADMIN_EMAIL = "admin@formflow.local"

P = ParamSpec("P")
R = TypeVar("R")


def register(main: click.Group) -> None:
    """Attach the notification commands to the ``formflow`` CLI (called by web.cli)."""
    main.add_command(worker_command)
    main.add_command(outbox)
    users = main.commands.get("users")
    if isinstance(users, click.Group):
        users.add_command(ensure_admin_command)


def _fail(message: str) -> NoReturn:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def _errors(command: Callable[P, R]) -> Callable[P, R]:
    """Engine, Redis and configuration errors become ``Error: message`` and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        from redis.exceptions import RedisError

        from workers.exceptions import DeliveryError, EmbeddedRedisError

        try:
            return command(*args, **kwargs)
        except (FormflowError, DeliveryError, EmbeddedRedisError, ValueError) as exc:
            _fail(str(exc))
        except RedisError as exc:
            _fail(f"Redis is unreachable ({exc}); check FORMFLOW_REDIS_URL")

    return wrapper


def _db() -> Database:
    from web.db import get_db

    return get_db(current_app)


def worker_redis(app: Flask) -> Redis:
    """The worker's client: the configured Redis, or the embedded one (started if needed)."""
    from workers.connection import redis_connection

    return redis_connection(app.config.get("REDIS_URL") or None, app.instance_path)


def _configure_logging() -> None:
    """Delivery outcomes on standard error, as RQ logs its own lines."""
    logger = logging.getLogger("workers")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


# -- worker ---------------------------------------------------------------------------------


@click.command("worker")
@click.option("--burst", is_flag=True,
              help="Work until the queue is empty, then exit (retries waiting stay scheduled).")
@click.option("--relay-every", type=click.IntRange(1), default=None, metavar="SECONDS",
              help="How often to relay the outbox (default: FORMFLOW_NOTIFY_RELAY_INTERVAL, 60).")
@click.option("--fork", is_flag=True,
              help="Fork a work horse per delivery (RQ's default model): a crashing delivery "
              "takes only its horse, at a third of the throughput (docs/notifications.md).")
@click.option("--verbose", is_flag=True,
              help="Also log RQ's own lines for every job (dequeued, finished, result kept).")
@click.option("--stop-with-parent", is_flag=True, hidden=True,
              help="Stop when standard input closes (formflow run supervises it so).")
@with_appcontext
@pass_script_info
@_errors
def worker_command(
    info: ScriptInfo, burst: bool, relay_every: int | None, fork: bool, verbose: bool,
    stop_with_parent: bool,
) -> None:
    """Deliver notifications: an RQ worker on the notifications queue, with its scheduler.

    It also relays the outbox (enqueues what a failed enqueue left behind) when it starts and
    periodically. Run several in production; SIGTERM stops it after the job at hand.
    """
    from web.notify import worker_settings
    from workers.jobs import run_worker
    from workers.queueing import RedisNames

    app = info.load_app()
    settings = worker_settings(app)
    db = _db()
    if db.current_revision() is None:
        _fail("the database has no formflow schema yet: run `formflow init` first")
    db.dispose()  # the worker opens its own per job; nothing pooled may cross a fork
    connection = worker_redis(app)
    connection.ping()
    _configure_logging()
    if stop_with_parent:
        _stop_when_stdin_closes()
    interval = relay_every or int(app.config.get("NOTIFY_RELAY_INTERVAL") or 60)
    click.echo(f"formflow worker: queue '{RedisNames(settings.redis_prefix).queue}' on "
               f"{app.config.get('REDIS_URL') or 'the embedded Redis'}; relay every {interval} s"
               f"; {'a work horse per delivery' if fork else 'in-process'}", err=True)
    run_worker(settings, connection, burst=burst, relay_every=interval, fork=fork,
               rq_log_level="INFO" if verbose else "WARNING")


def _stop_when_stdin_closes() -> None:
    """A supervised worker ends with its supervisor, however that ended (even SIGKILL)."""

    def watch() -> None:
        # os.read on the descriptor, not sys.stdin: a daemon thread blocked inside a buffered
        # reader makes the interpreter abort at exit ("could not acquire lock for <stdin>").
        try:
            while os.read(0, 1024):
                pass
        except OSError:
            pass
        os.kill(os.getpid(), signal.SIGTERM)  # RQ's warm shutdown: finish the job at hand

    threading.Thread(target=watch, name="stop-with-parent", daemon=True).start()


# -- outbox ---------------------------------------------------------------------------------


@click.group(cls=AppGroup)
def outbox() -> None:
    """The notification outbox: relay, retry and list notifications."""


@outbox.command("relay")
@click.option("--older-than", type=click.FloatRange(0), default=0.0, show_default=True,
              metavar="SECONDS", help="Leave pending rows younger than this to the request "
              "that wrote them (enqueueing a row twice is harmless: it is delivered once).")
@click.option("--stale-after", type=click.FloatRange(0), default=60.0, show_default=True,
              metavar="SECONDS", help="Re-enqueue rows marked enqueued at least this long ago "
              "whose job Redis no longer has (after Redis lost its data: 0).")
@pass_script_info
@_errors
def relay_command(info: ScriptInfo, older_than: float, stale_after: float) -> None:
    """Enqueue notifications whose enqueue failed (the worker also does this periodically)."""
    from web.notify import worker_settings
    from workers.queueing import RedisNames, relay_outbox

    app = info.load_app()
    settings = worker_settings(app)
    report = relay_outbox(_db(), worker_redis(app), names=RedisNames(settings.redis_prefix),
                          older_than=timedelta(seconds=older_than),
                          stale_after=timedelta(seconds=stale_after),
                          retry_intervals=settings.retry_intervals,
                          job_timeout=settings.job_timeout)
    click.echo(f"{report.enqueued} notification(s) enqueued, {report.requeued} re-enqueued")


@outbox.command("retry")
@click.argument("outbox_id", type=click.IntRange(1), metavar="ID")
@_errors
def retry_command(outbox_id: int) -> None:
    """Give a failed notification another try (pending again, then enqueued)."""
    from engine.services import get_notification, retry_notification

    db = _db()
    retry_notification(db, outbox_id)
    row = get_notification(db, outbox_id)
    if row.status == "enqueued":
        click.echo(f"notification {outbox_id}: enqueued for another try")
    else:
        click.echo(f"notification {outbox_id}: {row.status}; Redis was not reachable, so a "
                   "worker's relay will enqueue it")


@outbox.command("list")
@click.option("--status", "statuses", multiple=True, default=("failed",), show_default=True,
              type=click.Choice(["pending", "enqueued", "sent", "failed", "cancelled"]),
              help="Which rows; repeat for several.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100, show_default=True)
@_errors
def list_command(statuses: tuple[str, ...], limit: int) -> None:
    """List notifications by status, oldest first: ID, status, attempts, recipient, error."""
    from engine.services import notifications_with_status

    rows = notifications_with_status(_db(), statuses, limit=limit)  # type: ignore[arg-type]
    for row in rows:
        target = row.recipient or row.url or "-"
        error = (row.last_error or "").replace("\n", " ")
        click.echo(f"{row.id}\t{row.status}\t{row.attempts}\t{row.channel}:{target}"
                   f"\t{row.submission_id or 'draft:' + str(row.draft_id)}\t{error}")
    click.echo(f"{len(rows)} notification(s)", err=True)


# -- users ensure-admin ----------------------------------------------------------------------


@click.command("ensure-admin")
@click.option("--email", default=DEFAULT_ADMIN_EMAIL, show_default=True,
              help="Address of the administrator to create when there is none.")
@with_appcontext
@_errors
def ensure_admin_command(email: str) -> None:
    """Create a first administrator unless an active one exists; print its password once."""
    from engine.services import create_user, users_with_role

    db = _db()
    admins = users_with_role(db, "admin")
    base_url = str(current_app.config.get("BASE_URL") or "").rstrip("/")
    login_url = f"{base_url}/login"
    if admins:
        click.echo(f"Administrator: {admins[0].email} (exists; sign in at {login_url})")
        return
    password = secrets.token_urlsafe(15)
    user = create_user(db, email, ["admin", "coordinator"], password)
    click.echo(f"Created the first administrator — sign in at {login_url}\n"
               f"  email:    {user.email}\n"
               f"  password: {password}\n"
               f"  (shown only this once; change it at {base_url}/account after signing in)")
