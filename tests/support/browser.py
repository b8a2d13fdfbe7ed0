"""The browser tests' building blocks, apart from the fixtures in ``tests/browser/conftest.py``.

- ``LiveServer``: the origin of the app served for a test module, and its database;
- ``Watch``: every request, console error, CSP violation and uncaught error of a context;
- ``Shots``: numbered full-page screenshots in ``tests/artifacts/<test-name>/NN-<step>.png``;
- ``new_context``: a fresh browser context (German unless told otherwise) on the live server.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from engine.services import Database

__all__ = [
    "ARTIFACTS",
    "CHROMIUM",
    "CHROMIUM_ARGS",
    "CSP_REPORTER",
    "PROJECT_ROOT",
    "LiveServer",
    "Shots",
    "Watch",
    "artifact_folder",
    "new_context",
]

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


@dataclass
class LiveServer:
    url: str
    """``http://127.0.0.1:<port>`` (no trailing slash): the origin every request must stay on."""
    db: Database
    """The server's database, opened separately, for checks through the services."""
    app: Any

    def __call__(self, path: str) -> str:
        return self.url + path


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
