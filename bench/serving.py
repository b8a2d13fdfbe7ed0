"""Serving an app under gunicorn for a benchmark, and looking at it from outside.

Shared by the benchmarks that compare formflow under gunicorn with a hand-written baseline in
the same run (``bench/render.py`` and ``bench/api_submit.py``): start both the same way
(:class:`Shape`), wait until they answer, stop them, and read how much CPU the server
processes spent — on a shared machine the requests per second mostly measure the neighbours,
the server's CPU time per request much less.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from engine.services import Database, import_directory  # noqa: E402

__all__ = [
    "ROOT",
    "Server",
    "Shape",
    "formflow_env",
    "free_port",
    "get",
    "gunicorn",
    "prepare_formflow",
    "session_cookie",
    "wait_ready",
]


@dataclass(frozen=True)
class Shape:
    """How gunicorn runs both apps (the same for both, so the comparison is fair)."""

    workers: int = 2
    threads: int = 2

    def command(self, port: int) -> list[str]:
        return [sys.executable, "-m", "gunicorn", "--workers", str(self.workers),
                "--worker-class", "gthread", "--threads", str(self.threads),
                "--keep-alive", "5", "--log-level", "warning", "--bind", f"127.0.0.1:{port}"]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    def cpu_seconds(self) -> float | None:
        """User + system CPU time of the gunicorn master and its workers so far (None where
        ``/proc`` cannot tell)."""
        ticks = os.sysconf("SC_CLK_TCK")
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            total = 0
            for each in [pid, *map(int, children)]:
                fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ValueError, IndexError):
            return None
        return total / ticks


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(port: int, path: str, cookie: str | None = None) -> http.client.HTTPResponse:
    """One GET on a fresh connection; the body is read (``response.read()`` is then empty)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def session_cookie(response: http.client.HTTPResponse) -> str:
    """``session=…`` from a response's ``Set-Cookie``, to send back as ``Cookie``."""
    header = response.getheader("Set-Cookie") or ""
    found = re.match(r"\s*(session=[^;]+)", header)
    if not found:
        raise SystemExit(f"no session cookie in {header!r}")
    return found.group(1)


def wait_ready(server: Server, health: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited with {server.process.returncode}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if get(server.port, health).status == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"{server.name} did not answer {health} within {timeout:.0f} s")


@contextlib.contextmanager
def gunicorn(shape: Shape, name: str, app: str, env: dict[str, str], health: str,
             extra: list[str] | None = None) -> Iterator[Server]:
    """``app`` (a gunicorn app spec) served on a free loopback port until the block ends."""
    port = free_port()
    command = [*shape.command(port), *(extra or []), app]
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    server = Server(name, port, process)
    try:
        wait_ready(server, health)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def formflow_env(instance: Path, database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a formflow server: every ``FORMFLOW_*`` of ours cleared, then its
    instance folder, database and ``settings`` (e.g. ``FORMFLOW_SECRET_KEY``)."""
    clean = {k: "" for k in os.environ if k.startswith("FORMFLOW_")}
    return {**clean, "FORMFLOW_INSTANCE": str(instance), "FORMFLOW_DATABASE_URL": database_url,
            **settings}


def prepare_formflow(database_url: str) -> Database:
    """Schema and shipped definitions, through the services (what ``formflow init`` does);
    returns the Database (dispose of it when done)."""
    db = Database(database_url)
    db.upgrade()
    outcomes = import_directory(db, ROOT / "forms", ROOT / "workflows")
    refused = [o.path.name for o in outcomes if not o.ok]
    if refused:
        db.dispose()
        raise SystemExit(f"definitions refused: {refused}")
    return db
