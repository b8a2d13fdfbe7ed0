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
``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from engine.services import import_directory
from engine.storage import Database

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Reports CSP violations to the console, where the watch collects them. An init script is
# injected by the browser itself, so the page's CSP (no inline scripts) does not block it.
CSP_REPORTER = """
document.addEventListener('securitypolicyviolation', (event) => {
  console.error('CSP violation: ' + event.violatedDirective + ' blocked ' +
                (event.blockedURI || 'inline') + ' in ' + event.documentURI);
});
"""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests need {reason} in CI")
    pytest.skip(reason)


# -- the live server ---------------------------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    """``http://127.0.0.1:<port>`` (no trailing slash): the origin every request must stay on."""
    db: Database
    """The server's database, opened separately, for checks through the services."""
    app: Any

    def __call__(self, path: str) -> str:
        return self.url + path


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
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


@dataclass
class Watch:
    """Everything the pages of one context asked for or complained about."""

    origin: str
    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    expected_statuses: dict[str, int] = field(default_factory=dict)

    def attach(self, context: Any) -> None:
        context.on("request", lambda request: self.requests.append(request.url))
        context.on("page", self.attach_page)
        for page in context.pages:
            self.attach_page(page)

    def attach_page(self, page: Any) -> None:
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))

    def expect_status(self, path: str, status: int) -> None:
        """A page that answers with an error status on purpose: Chromium logs "Failed to
        load resource … status of <n>" for it, which is not a fault of the page."""
        self.expected_statuses[path] = status

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        location = (message.location or {}).get("url", "")
        failed = re.match(r"Failed to load resource: the server responded with a status of (\d+)",
                          text)
        if failed and location.startswith(self.origin):
            path = location[len(self.origin):].split("#", 1)[0]
            if self.expected_statuses.get(path.split("?", 1)[0]) == int(failed.group(1)):
                return
        self.console_errors.append(f"{text} (at {location})")

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests
                if not (url.startswith(self.origin + "/") or url.startswith("data:"))]

    def assert_clean(self) -> None:
        assert self.requests, "no request was recorded"
        assert self.foreign_requests() == [], "requests left the server's origin"
        csp = [e for e in self.console_errors if "Content Security Policy" in e
               or e.startswith("CSP violation")]
        assert csp == [], "CSP violations"
        assert self.console_errors == [], "console errors"
        assert self.page_errors == [], "uncaught errors in the page"


class Shots:
    """Numbered full-page screenshots: ``tests/artifacts/<test>/NN-<step>.png``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.count = 0
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, page: Any, step: str) -> Path:
        self.count += 1
        slug = re.sub(r"[^a-z0-9]+", "-", step.lower()).strip("-")
        path = self.folder / f"{self.count:02d}-{slug}.png"
        page.screenshot(path=str(path), full_page=True)
        return path


def artifact_folder(request: pytest.FixtureRequest) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    return ARTIFACTS / name


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Shots:
    return Shots(artifact_folder(request))


def new_context(chromium: Any, live_server: LiveServer, **options: Any) -> Any:
    """A fresh context (its own cookies) on the live server; German unless told otherwise."""
    settings: dict[str, Any] = {"locale": "de-DE", "base_url": live_server.url,
                                "viewport": {"width": 1024, "height": 800}}
    settings.update(options)
    context = chromium.new_context(**settings)
    context.set_default_timeout(10_000)
    if settings.get("java_script_enabled", True):
        context.add_init_script(CSP_REPORTER)
    return context


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
