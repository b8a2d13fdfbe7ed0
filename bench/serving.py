"""Serving apps under gunicorn for a benchmark and sending them load.

Shared by ``bench/api_submit.py`` and ``bench/render.py``: both apps of a comparison are
started the same way (2 gunicorn workers with 2 threads each, on a free loopback port), loaded
by the same plain client (a few threads, each with one keep-alive ``http.client`` connection),
in alternating rounds, so that both see the same machine load. Every round is bounded in
requests and in seconds; the median round counts.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from engine.services import Database, import_directory  # noqa: E402

WORKERS = 2
THREADS_PER_WORKER = 2
POSTGRES_URL = os.environ.get(
    "FORMFLOW_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]


@dataclass(frozen=True)
class Request:
    """What one client sends, again and again, and the answer it expects."""

    method: str
    path: str
    status: int
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    marker: bytes = b""
    """Text the first answer must contain (the page really rendered what it should)."""


@dataclass(frozen=True)
class Round:
    requests: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(port: int, path: str) -> http.client.HTTPResponse:
    """One GET on a fresh connection; the body is read."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@contextlib.contextmanager
def gunicorn(name: str, app: str, env: dict[str, str], health: str,
             pythonpath: Path | None = None) -> Iterator[Server]:
    """``app`` (a gunicorn app spec) served on a free loopback port until the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "--workers", str(WORKERS),
               "--worker-class", "gthread", "--threads", str(THREADS_PER_WORKER),
               "--keep-alive", "5", "--log-level", "warning", "--bind", f"127.0.0.1:{port}"]
    if pythonpath is not None:
        command += ["--pythonpath", str(pythonpath)]
    process = subprocess.Popen([*command, app], cwd=ROOT, env={**os.environ, **env})
    server = Server(name, port, process)
    try:
        _wait_ready(server, health)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(server: Server, health: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name} exited with {server.process.returncode}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if get(server.port, health).status == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"{server.name} did not answer {health} within {timeout:.0f} s")


def _client(server: Server, request: Request, stop_at: float, count: int,
            statuses: Counter[int], lock: threading.Lock) -> int:
    """Up to ``count`` requests over one keep-alive connection, until ``stop_at``."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {"Connection": "keep-alive", **request.headers}
    local: Counter[int] = Counter()
    sent = 0
    try:
        while sent < count and time.perf_counter() < stop_at:
            connection.request(request.method, request.path, body=request.body,
                               headers=headers)
            response = connection.getresponse()
            body = response.read()
            if sent == 0 and request.marker not in body:
                raise SystemExit(f"{server.name}: {request.path} lacks {request.marker!r}")
            local[response.status] += 1
            sent += 1
            if response.will_close:
                connection.close()
    finally:
        connection.close()
        with lock:
            statuses.update(local)
    return sent


def load(server: Server, request: Request, seconds: float, requests: int,
         clients: int) -> Round:
    """One round: ``clients`` threads send ``request`` until ``requests`` were sent in all or
    ``seconds`` have passed; every answer must have the expected status."""
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    started = time.perf_counter()
    share = -(-requests // clients)
    with ThreadPoolExecutor(clients) as pool:
        futures = [pool.submit(_client, server, request, started + seconds, share, statuses,
                               lock) for _ in range(clients)]
        sent = sum(future.result() for future in futures)
    elapsed = time.perf_counter() - started
    if set(statuses) != {request.status}:
        raise SystemExit(f"{server.name}: expected only {request.status}, got {dict(statuses)}")
    return Round(sent, elapsed)


def compare(pairs: list[tuple[Server, Request]], rounds: int, seconds: float, requests: int,
            clients: int) -> list[float]:
    """Median requests/s of each server, measured in alternating rounds after a warm-up."""
    for server, request in pairs:
        load(server, request, 2.0, 50, clients)
    rates: list[list[float]] = [[] for _ in pairs]
    for number in range(rounds):
        order = list(enumerate(pairs))
        for index, (server, request) in order if number % 2 == 0 else order[::-1]:
            rates[index].append(load(server, request, seconds, requests, clients).rate)
    for (server, _), each in zip(pairs, rates, strict=True):
        print(f"  {server.name:<22} {statistics.median(each):8.1f} requests/s   rounds: "
              + ", ".join(f"{rate:.1f}" for rate in each))
    return [statistics.median(each) for each in rates]


def formflow_env(instance: Path, database_url: str, **settings: str) -> dict[str, str]:
    """The environment of a formflow server: every ``FORMFLOW_*`` of ours cleared, then its
    instance folder, database and ``settings`` (e.g. ``FORMFLOW_SECRET_KEY``)."""
    clean = {k: "" for k in os.environ if k.startswith("FORMFLOW_")}
    return {**clean, "FORMFLOW_INSTANCE": str(instance), "FORMFLOW_DATABASE_URL": database_url,
            **settings}


def prepare_formflow(database_url: str) -> None:
    """Schema and shipped definitions, through the services (what ``formflow init`` does)."""
    db = Database(database_url)
    try:
        db.upgrade()
        outcomes = import_directory(db, ROOT / "forms", ROOT / "workflows")
    finally:
        db.dispose()
    refused = [o.path.name for o in outcomes if not o.ok]
    if refused:
        raise SystemExit(f"definitions refused: {refused}")


@contextlib.contextmanager
def postgres_schemas(count: int) -> Iterator[list[str] | None]:
    """``count`` fresh PostgreSQL schemas as database URLs (None when unreachable), dropped
    when the block ends."""
    import psycopg

    dsn = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    names = [f"ff_bench_{os.getpid()}_{n}" for n in range(count)]
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as connection:
            for name in names:
                connection.execute(f'CREATE SCHEMA "{name}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL skipped: {str(exc).strip()}")
        yield None
        return
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield [f"{POSTGRES_URL}{separator}options=-csearch_path%3D{name}" for name in names]
    finally:
        with psycopg.connect(dsn, autocommit=True) as connection:
            for name in names:
                connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
