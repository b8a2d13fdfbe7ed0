"""A real OpenID Connect provider for the single sign-on tests: ``tests/oidc/provider.js``
(the npm package ``oidc-provider``) run with Node.

Its packages are installed by ``make test`` (``npm ci`` in tests/oidc, from the committed
lockfile). Without Node or those packages the tests are skipped — except with ``CI=true``,
where they fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from support.notifications import wait_for

__all__ = ["OIDC_FOLDER", "Provider", "start_provider"]

OIDC_FOLDER = Path(__file__).resolve().parents[1] / "oidc"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the single sign-on tests need {reason} in CI")
    pytest.skip(reason)


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen[str]
    log_path: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")


def start_provider(*, port: int, client_id: str, client_secret: str, redirect_uri: str,
                   post_logout_uri: str, accounts: Mapping[str, Mapping[str, Any]],
                   log_path: Path) -> Provider:
    """Start the provider on ``port`` and wait until it answers discovery."""
    node = shutil.which("node")
    if node is None:
        _unavailable("Node.js (node)")
    if not (OIDC_FOLDER / "node_modules" / "oidc-provider").is_dir():
        _unavailable("the npm packages of tests/oidc (make test runs npm ci there)")
    environ = {**os.environ, "OIDC_PORT": str(port), "OIDC_CLIENT_ID": client_id,
               "OIDC_CLIENT_SECRET": client_secret, "OIDC_REDIRECT_URI": redirect_uri,
               "OIDC_POST_LOGOUT_URI": post_logout_uri, "OIDC_ACCOUNTS": json.dumps(accounts)}
    log = log_path.open("w", encoding="utf-8")
    process = subprocess.Popen([str(node), "provider.js"], cwd=OIDC_FOLDER, env=environ,
                               stdout=log, stderr=subprocess.STDOUT, text=True)
    log.close()
    provider = Provider(f"http://127.0.0.1:{port}", process, log_path)

    def ready() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the provider stopped:\n{provider.output()}")
        return "ready " in provider.output()

    wait_for(ready, timeout=30, what="the OpenID provider")
    return provider
