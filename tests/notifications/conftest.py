"""Fixtures for the notification failure tests: the app of ``tests/conftest.py`` with its own
Redis, SMTP sink and webhook receiver, and a factory for real ``formflow worker`` processes.

Everything the app does goes through ``create_app`` and ``engine.services`` exactly as in
production; the worker processes get the same settings through ``FORMFLOW_*`` variables.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from engine.services import create_user, import_definition, publish_form, publish_workflow
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
from web.db import get_db


@pytest.fixture
def clean_env(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's variables removed, and the webhook secret the workflow names set."""
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
def workflow_templates() -> dict[str, Any]:
    """Templates replacing the standard ones of the test workflow (override per module)."""
    return {}


@pytest.fixture
def app_config(
    app_config: dict[str, Any], redis_server: RedisServer, mail_sink: MailSink
) -> dict[str, Any]:
    return {
        **app_config,
        "REDIS_URL": redis_server.url,
        "SMTP_URL": mail_sink.url,
        "SECRET_KEY": SECRET_KEY,
        "BASE_URL": BASE_URL,
        "NOTIFY_RETRY_INTERVALS": "1,1",
        "RATELIMIT_SUBMISSIONS": "10000/minute",
    }


@pytest.fixture
def app(app: Flask, hook: HookReceiver, workflow_templates: dict[str, Any]) -> Flask:
    """The app with the test workflow (its webhook pointing at ``hook``) and form published
    and a coordinator."""
    db = get_db(app)
    db.upgrade()
    import_definition(db, workflow(hook.url, workflow_templates), "workflow")
    publish_workflow(db, "review")
    import_definition(db, form(), "form")
    publish_form(db, "signup")
    create_user(db, COORDINATOR, ["coordinator"], PASSWORD)
    return app


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
