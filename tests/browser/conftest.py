"""Fixtures for the browser tests: the real app behind a real WSGI server, and Debian's Chromium
driven by Playwright.

- ``live_server`` (one per test module): the app from ``create_app`` on a real SQLite file in a
  temporary instance folder, the shipped definitions imported and published through the
  services, served by ``werkzeug.serving.make_server`` (threaded) in a thread on 127.0.0.1 and
  a free port. Tests check what the pages stored through ``live_server.db`` (the services).
- ``chromium`` (one per session): ``/usr/bin/chromium`` — never a browser that Playwright
  downloads — headless, with its background connections switched off (the machine has no
  internet, and test 9 asserts that no request leaves the server's origin).
- ``context`` / ``page`` / ``watch`` / ``shots`` per test: a fresh browser context (German,
  like our applicants), a recorder of requests, console errors and CSP violations, and
  numbered screenshots in ``tests/artifacts/<test-name>/NN-<step>.png``.

When Chromium or the ``playwright`` package is missing the tests skip — except with
``CI=true``, where they fail. The classes behind these fixtures live in ``support.browser``
(test modules import them from there: ``conftest`` is not a unique module name).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.services import Database, import_directory
from support.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PROJECT_ROOT,
    LiveServer,
    Shots,
    Watch,
    artifact_folder,
    new_context,
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (``--dist loadgroup``) the tests of one browser module run on one
    worker: the live server and the staff it gets are made once per module."""
    here = Path(__file__).parent
    for item in items:
        if item.path.parent == here:
            item.add_marker(pytest.mark.xdist_group(f"browser-{item.path.stem}"))


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests need {reason} in CI")
    pytest.skip(reason)


# -- the live server ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_server_settings() -> dict[str, Any]:
    """Extra app configuration of a module's live server (a module overrides this)."""
    return {}


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, live_server_settings: dict[str, Any]
                ) -> Iterator[LiveServer]:
    from werkzeug.serving import WSGIRequestHandler, make_server

    from web import create_app

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            """One line per request would drown a failing test's output; errors still log."""

    instance = tmp_path_factory.mktemp("browser-instance")
    database_url = f"sqlite:///{instance / 'formflow.sqlite3'}"
    db = Database(database_url)
    db.upgrade()
    outcomes = import_directory(db, PROJECT_ROOT / "forms", PROJECT_ROOT / "workflows")
    assert all(o.ok for o in outcomes), [(o.path.name, o.problems) for o in outcomes]

    with pytest.MonkeyPatch.context() as env:
        for name in list(os.environ):
            if name.startswith("FORMFLOW_"):
                env.delenv(name)
        app = create_app(
            {
                "INSTANCE_PATH": str(instance),
                "DATABASE_URL": database_url,
                "SECRET_KEY": "browser-tests-only",
                "REDIS_URL": None,
                "RATELIMIT_STORAGE_URI": "memory://",
                # one client IP sends every test's steps: the limits are tested elsewhere
                "RATELIMIT_APPLICANT_POSTS": "100000 per minute",
                "RATELIMIT_SUBMISSIONS": "100000 per minute",
                # the footer links every page shows (axe checks them with the rest)
                "IMPRINT_URL": "https://verein.example/impressum",
                "PRIVACY_URL": "https://verein.example/datenschutz",
                **live_server_settings,
            }
        )
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", db, app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        from web.db import get_db

        get_db(app).dispose()
        db.dispose()


# -- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the playwright package")
    if not (CHROMIUM.exists() and os.access(CHROMIUM, os.X_OK)):
        _unavailable(f"Chromium at {CHROMIUM} (Debian package chromium)")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
    except Exception as error:  # pragma: no cover - depends on the machine
        playwright.stop()
        _unavailable(f"a Chromium that starts ({error})")
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(artifact_folder(request))


@pytest.fixture
def watch(live_server: LiveServer) -> Watch:
    return Watch(live_server.url)


@pytest.fixture
def context(chromium: Any, live_server: LiveServer, watch: Watch) -> Iterator[Any]:
    context = new_context(chromium, live_server)
    watch.attach(context)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()
