"""Tokens in URLs stay out of the access log of ``formflow run`` (Werkzeug's dev server) and
of gunicorn's (``web.access_log``)."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from flask import Flask

from engine.services import Database, submit
from support.api import MEMBERSHIP_ANSWERS
from support.notifications import PROJECT_ROOT, free_port, wait_for
from web.access_log import SECRET_PATHS, RedactSecrets, redact

FORMFLOW = str(Path(sys.executable).with_name("formflow"))


def _status_of(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return 0


def test_formflow_run_logs_status_and_resume_links_without_their_tokens(
    db: Database, database_url: str, instance_path: Path, tmp_path: Path
) -> None:
    created = submit(db, "membership", MEMBERSHIP_ANSWERS, "de")
    resume_token = "resume-secret-Zq3xV9"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FORMFLOW_")}
    environ.update(FORMFLOW_DATABASE_URL=database_url, FORMFLOW_INSTANCE=str(instance_path))
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        run = subprocess.Popen([FORMFLOW, "run", "--no-worker", "--port", str(port)],
                               env=environ, cwd=PROJECT_ROOT, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_for(lambda: _status_of(f"{base}/healthz") == 200 or run.poll() is not None,
                 timeout=60, what="the development server")
        assert _status_of(f"{base}/status/{created.token}?lang=en") == 200
        assert _status_of(f"{base}/resume/{resume_token}") == 404
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(30)
    logged = log_path.read_text("utf-8", "replace")
    assert "GET /healthz HTTP/1.1" in logged, logged  # the access log is there ...
    assert "GET /status/[token]?lang=en HTTP/1.1" in logged, logged
    assert "GET /resume/[token] HTTP/1.1" in logged, logged
    assert created.token not in logged  # ... without the secrets
    assert resume_token not in logged


def test_every_route_with_a_token_is_redacted(app: Flask) -> None:
    token_rules = [r.rule for r in app.url_map.iter_rules() if "token" in r.arguments]
    assert token_rules  # the status page and the resume link at least
    for rule in token_rules:
        path = rule.replace("<token>", "s3cret").replace("<", "").replace(">", "")
        assert "s3cret" not in redact(f'"GET {path} HTTP/1.1" 200'), rule
        assert any(rule.startswith(prefix) for prefix in SECRET_PATHS)


def test_a_gunicorn_access_line_loses_its_tokens_also_in_the_referer() -> None:
    """gunicorn logs ``access_log_format`` with a dict of atoms (its documented format)."""
    record = logging.LogRecord(
        "gunicorn.access", logging.INFO, __file__, 1,
        '%(h)s "%(r)s" %(s)s "%(f)s"',
        ({"h": "198.51.100.4", "r": "GET /static/app.css HTTP/1.1", "s": "200",
          "f": "https://forms.example.org/status/abcDEF123"},),
        None,
    )
    assert RedactSecrets().filter(record) is True
    assert record.getMessage() == (
        '198.51.100.4 "GET /static/app.css HTTP/1.1" 200 '
        '"https://forms.example.org/status/[token]"'
    )


@pytest.mark.parametrize("line", [
    '"GET /f/membership/step/person HTTP/1.1" 200 -',
    '"POST /api/forms/contact/submissions HTTP/1.1" 201 -',
    '"GET /statusreport/x HTTP/1.1" 404 -',
])
def test_other_lines_are_left_alone(line: str) -> None:
    assert redact(line) == line
