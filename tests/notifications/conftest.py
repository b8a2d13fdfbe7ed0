"""Fixtures for the notification failure tests: one app over a fresh database, with its own
Redis, SMTP sink and webhook receiver, and a factory for real ``formflow worker`` processes.

Everything the app does goes through ``create_app`` and ``engine.services`` exactly as in
production; the worker processes get the same settings through ``FORMFLOW_*`` variables.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from engine.services import create_user, import_definition, publish_form, publish_workflow
from engine.storage import Database
from support.notifications import (
    BASE_URL,
    COORDINATOR,
    HOOK_SECRET,
    HOOK_SECRET_ENV,
    PASSWORD,
    SECRET_KEY,
    HookReceiver,
    MailSink,
    RedisServer,
    WorkerProcess,
    form,
    worker_environ,
    workflow,
)
from support.postgres import fresh_schema_url
from web import create_app
from web.db import get_db


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("FORMFLOW_") and name != "FORMFLOW_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.setenv(HOOK_SECRET_ENV, HOOK_SECRET)


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def mail_sink() -> Iterator[MailSink]:
    sink = MailSink()
    sink.start()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture
def hook() -> Iterator[HookReceiver]:
    receiver = HookReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` unless a test parametrizes it indirectly."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def database_url(backend: str, tmp_path: Path) -> Iterator[str]:
    if backend != "postgresql":
        yield f"sqlite:///{tmp_path / 'formflow.sqlite3'}"
        return
    with fresh_schema_url("ff_notify") as url:
        yield url


@pytest.fixture
def workflow_templates() -> dict[str, Any]:
    """Templates replacing the standard ones of the test workflow (override per module)."""
    return {}


@pytest.fixture
def app_config(
    tmp_path: Path, database_url: str, redis_server: RedisServer, mail_sink: MailSink
) -> dict[str, Any]:
    return {
        "TESTING": True,
        "INSTANCE_PATH": str(tmp_path / "instance"),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_server.url,
        "SMTP_URL": mail_sink.url,
        "SECRET_KEY": SECRET_KEY,
        "BASE_URL": BASE_URL,
        "NOTIFY_RETRY_INTERVALS": "1,1",
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_SUBMISSIONS": "10000/minute",
    }


@pytest.fixture
def app(
    clean_env: None, app_config: dict[str, Any], hook: HookReceiver,
    workflow_templates: dict[str, Any],
) -> Iterator[Flask]:
    app = create_app(app_config)
    db = get_db(app)
    db.upgrade()
    import_definition(db, workflow(hook.url, workflow_templates), "workflow")
    publish_workflow(db, "review")
    import_definition(db, form(), "form")
    publish_form(db, "signup")
    create_user(db, COORDINATOR, ["coordinator"], PASSWORD)
    yield app
    db.dispose()


@pytest.fixture
def db(app: Flask) -> Database:
    return get_db(app)


@pytest.fixture
def worker_env(app: Flask) -> dict[str, str]:
    """The app's configuration as the environment of a ``formflow worker`` process."""
    config = app.config
    return worker_environ(
        FORMFLOW_INSTANCE=app.instance_path,
        FORMFLOW_DATABASE_URL=str(config["DATABASE_URL"]),
        FORMFLOW_REDIS_URL=str(config["REDIS_URL"]),
        FORMFLOW_SMTP_URL=str(config["SMTP_URL"]),
        FORMFLOW_SMTP_TIMEOUT="5",
        FORMFLOW_SECRET_KEY=SECRET_KEY,
        FORMFLOW_BASE_URL=BASE_URL,
        FORMFLOW_MAIL_FROM="Verein <formflow@verein.example>",
        FORMFLOW_NOTIFY_RETRY_INTERVALS="1,1",
        FORMFLOW_NOTIFY_RELAY_INTERVAL="1",
    )


@pytest.fixture
def start_worker(
    worker_env: dict[str, str], tmp_path: Path
) -> Iterator[Callable[..., WorkerProcess]]:
    """``start_worker(*args, **extra_env)``: a new ``formflow worker`` process (``args``: its
    options); all are stopped after the test."""
    started: list[WorkerProcess] = []

    def start(*args: str, **extra: str) -> WorkerProcess:
        environ = {**worker_env, **extra}
        process = WorkerProcess(environ, tmp_path / f"worker-{len(started) + 1}.log", *args)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
