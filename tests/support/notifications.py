"""Real peers for the notification failure tests: a private Redis, an SMTP sink, a webhook
receiver, and ``formflow worker`` subprocesses — each started and stopped by the test.

Nothing here talks to the shared Redis at 127.0.0.1:6379: each test gets a Redis of its own,
so what one test leaves in it (jobs, receipts, workers' registrations) cannot meet another's.
"""

from __future__ import annotations

import copy
import email
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope
from redis import Redis
from redis.exceptions import RedisError

from engine.signing import verify
from workers.embedded import server_executable
from workers.exceptions import EmbeddedRedisError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "test-secret-key-for-notification-tests-0123456789"
BASE_URL = "https://forms.example.org"
HOOK_SECRET_ENV = "FORMFLOW_WEBHOOK_TEST_NOTIFY_SECRET"
HOOK_SECRET = "notify-hook-secret"
COORDINATOR = "coord@example.org"
PASSWORD = "correct horse battery"

FORM: dict[str, Any] = {
    "id": "signup",
    "title": {"de": "Anmeldung", "en": "Sign-up"},
    "languages": ["de", "en"],
    "workflow": "review",
    "applicant": {"email": "email", "name": "name"},
    "steps": [{"id": "person", "title": {"de": "Person", "en": "Person"}, "fields": [
        {"id": "name", "type": "text", "label": {"de": "Name", "en": "Name"}, "required": True},
        {"id": "email", "type": "email", "label": {"de": "E-Mail", "en": "Email"},
         "required": True},
    ]}],
    "rules": [],
}


def workflow(hook_url: str, templates: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Applicant and coordinator mails on submit, an applicant mail on accept, a webhook on
    every event; ``templates`` replaces some of the templates (the administrator's mistakes)."""
    texts: dict[str, Any] = {
        "received": {
            "subject": {"de": "Eingang {{ submission.reference }}",
                        "en": "Received {{ submission.reference }}"},
            "body": {"de": "Hallo {{ answers.name }},\n\nIhr Status: {{ submission.status_url }}",
                     "en": "Hello {{ answers.name }},\n\nYour status: "
                           "{{ submission.status_url }}"},
        },
        "new_submission": {
            "subject": {"de": "Neu: {{ submission.reference }}"},
            "body": {"de": "{{ answers.name }} hat {{ submission.form_title }} eingereicht."},
        },
        "accepted": {
            "subject": {"de": "Angenommen: {{ submission.reference }}"},
            "body": {"de": "Hallo {{ answers.name }}, angenommen."},
        },
    }
    texts.update(templates or {})
    return {
        "id": "review",
        "title": {"de": "Prüfung", "en": "Review"},
        "initial": "submitted",
        "states": [
            {"id": "submitted", "label": {"de": "Eingegangen", "en": "Submitted"}},
            {"id": "accepted", "label": {"de": "Angenommen", "en": "Accepted"}, "final": True},
        ],
        "transitions": [
            {"id": "accept", "from": "submitted", "to": "accepted", "roles": ["coordinator"]},
        ],
        "notifications": [
            {"on": "submitted", "to": "applicant", "template": "received"},
            {"on": "submitted", "to": "role:coordinator", "template": "new_submission"},
            {"on": "accepted", "to": "applicant", "template": "accepted"},
            {"on": "*", "webhook": hook_url, "secret_env": HOOK_SECRET_ENV},
        ],
        "templates": texts,
    }


def form() -> dict[str, Any]:
    return copy.deepcopy(FORM)


def require_service(problem: str) -> None:
    """Skip for a missing peer, except with CI=true, where it is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(problem)
    pytest.skip(problem)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str,
              interval: float = 0.2) -> Any:
    """Poll ``condition`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)


# -- Redis ----------------------------------------------------------------------------------


class RedisServer:
    """A private redis-server on a loopback port, stopped and started by the test.

    It snapshots to its folder on shutdown and loads the snapshot on start, like a Redis that
    is restarted for maintenance: what was queued before the outage is still there after it.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        try:
            self.executable = server_executable()
        except EmbeddedRedisError as exc:
            require_service(str(exc))

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> Redis:
        return Redis.from_url(self.url, socket_connect_timeout=2)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [self.executable, "--port", str(self.port), "--bind", "127.0.0.1",
             "--dir", str(self.folder), "--save", "3600", "1", "--appendonly", "no",
             "--daemonize", "no", "--logfile", str(self.folder / "redis.log")],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        client = self.client()
        try:
            wait_for(lambda: _pings(client), timeout=20, what=f"redis-server on {self.port}",
                     interval=0.05)
        finally:
            client.close()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()  # redis saves its snapshot on SIGTERM
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None


def _pings(client: Redis) -> bool:
    try:
        return bool(client.ping())
    except RedisError:
        return False


# -- SMTP ------------------------------------------------------------------------------------


class MailSink:
    """An aiosmtpd server on a fixed port that can be taken down and brought back."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.envelopes: list[Envelope] = []
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        with self._lock:
            self.envelopes.append(envelope)
        return "250 OK: queued"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            envelopes = list(self.envelopes)
        found = []
        for envelope in envelopes:
            content = envelope.content
            assert isinstance(content, bytes)
            message = email.message_from_bytes(content, policy=default_policy)
            assert isinstance(message, EmailMessage)
            found.append(message)
        return found

    def message_ids(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for m in self.messages())

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages() if address in str(m["To"])]


# -- webhooks --------------------------------------------------------------------------------


class HookReceiver:
    """An HTTP server that records each signed POST (delivery id, signature ok, body)."""

    def __init__(self) -> None:
        self.received: list[tuple[str | None, bool, dict[str, Any]]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = verify(body, HOOK_SECRET.encode(), self.headers.get("X-Formflow-Signature"))
                receiver.received.append(
                    (self.headers.get("X-Formflow-Delivery"), ok, json.loads(body)))
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def delivery_ids(self) -> Counter[str | None]:
        return Counter(delivery_id for delivery_id, _ok, _body in self.received)


# -- workers ---------------------------------------------------------------------------------


def worker_environ(**settings: str) -> dict[str, str]:
    """This process's environment without any FORMFLOW_* of the caller, plus ``settings``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("FORMFLOW_")}
    environ.update(settings)
    environ[HOOK_SECRET_ENV] = HOOK_SECRET
    environ.setdefault("FORMFLOW_WEBHOOK_ALLOW", "127.0.0.1")  # the HookReceiver's address
    return environ


class WorkerProcess:
    """``formflow worker`` in a session of its own (worker, scheduler, work horses)."""

    def __init__(self, environ: Mapping[str, str], log_path: Path, *args: str) -> None:
        self.log_path = log_path
        self._log = open(log_path, "ab")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from web.cli import main; main(prog_name='formflow')",
             "worker", *args],
            cwd=PROJECT_ROOT, env=dict(environ), stdin=subprocess.DEVNULL,
            stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def output(self) -> str:
        self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM (RQ's warm shutdown), then SIGKILL for everything left in its session."""
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        kill_session(self.pid)
        if self.alive():
            self.process.wait(10)
        self._log.close()
        return self.process.returncode


def session_members(session_id: int) -> list[int]:
    """Pids of the live processes in session ``session_id`` (Linux /proc)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        # fields[0] is the state, fields[3] the session id (man 5 proc: fields 3 and 6)
        if fields[0] != "Z" and int(fields[3]) == session_id:
            members.append(int(entry.name))
    return members


def kill_session(session_id: int) -> None:
    for pid in session_members(session_id):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@contextmanager
def running_worker(environ: Mapping[str, str], log_path: Path) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(environ, log_path)
    try:
        yield worker
    finally:
        worker.stop()
