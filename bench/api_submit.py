"""Benchmark: valid submissions per second through the JSON API (``bench/api_submit.py``).

Starts formflow under gunicorn (2 workers, the real ``web:create_app()`` with its instance in
a temporary folder and the submission rate limit raised) against SQLite, and beside it the
hand-written Flask + WTForms endpoint of ``bench/baseline_submit.py`` (also 2 gunicorn
workers, also SQLite). A small thread pool sends a bounded number of valid membership
submissions to each over keep-alive ``http.client`` connections; the servers are measured in
alternating rounds, so both see the same machine load, and the median round counts.

Prints requests/s of both and their ratio (target: formflow ≥ 0.8 × baseline), the servers'
CPU time per request and CPU-seconds per second (from ``/proc``: less disturbed by neighbours,
and below the CPUs available when requests wait), then formflow's requests/s against
PostgreSQL (a fresh schema, dropped afterwards; skipped when unreachable). Every answer must
be 201, or the run fails. By default the outbox rows each submission writes are not enqueued
(no Redis needed); ``--redis URL`` adds the enqueue and Redis-kept rate limits, as in
production.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import baseline_submit
from serving import (
    ROOT,
    Server,
    Shape,
    formflow_env,
    gunicorn,
    prepare_formflow,
)

RATIO_TARGET = 0.8
POSTGRES_URL = os.environ.get(
    "FORMFLOW_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ANSWERS = {
    "request": True,
    "name": "Ada Lovelace",
    "institution": "Analytical Engines e.V.",
    "function": "Mathematikerin",
    "street": "Unter den Linden 1",
    "postcode": "10117",
    "town": "Berlin",
    "phone": "+49 30 1234567",
    "email": "ada@example.org",
    "activities": "Beteiligungsverfahren in der Kommune, Bürgerräte, Moderation.",
    "topic": "transparenz",
    "topic_consent": True,
}
BODY = json.dumps({"answers": ANSWERS, "language": "de"}).encode()
WORKERS = 2
SERVER_THREADS = 2


@dataclass(frozen=True)
class Round:
    requests: int
    seconds: float
    statuses: Counter[int]
    cpu_seconds: float | None
    """CPU time the server processes spent in the round (None where /proc cannot tell)."""

    @property
    def cpu_ms(self) -> float | None:
        """Server CPU per request: what the code costs, far less disturbed by neighbours."""
        return None if self.cpu_seconds is None else self.cpu_seconds * 1000 / self.requests

    @property
    def busy(self) -> float | None:
        """Server CPU seconds per second of the round: below the CPUs the server could use,
        its requests were waiting (for the client, a lock, the disk) instead of running."""
        return None if self.cpu_seconds is None else self.cpu_seconds / self.seconds

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def _formflow(
    shape: Shape, instance: Path, database_url: str, redis: str | None
) -> contextlib.AbstractContextManager[Server]:
    """formflow under gunicorn. Without ``redis``, outbox rows are written but not enqueued
    (``NOTIFY_ENQUEUE=False``), and rate-limit counters live in each worker's memory."""
    prepare_formflow(database_url).dispose()
    config = {"RATELIMIT_SUBMISSIONS": "100000000 per minute", "NOTIFY_ENQUEUE": bool(redis)}
    env = formflow_env(instance, database_url)
    if redis:
        env["FORMFLOW_REDIS_URL"] = redis
    return gunicorn(shape, "formflow", f"web:create_app({config!r})", env, "/api/forms")


def _baseline(shape: Shape, folder: Path) -> contextlib.AbstractContextManager[Server]:
    database = str(folder / "baseline.sqlite3")
    baseline_submit.prepare(database)
    return gunicorn(shape, "baseline", "baseline_submit:create_app()",
                    {"BASELINE_DATABASE": database},
                    "/health", ["--pythonpath", str(ROOT / "bench")])


SUBMIT_PATHS = {"formflow": "/api/forms/membership/submissions", "baseline": "/submit"}
"""Where each server takes a submission."""


def _send(server: Server, count: int, statuses: Counter[int], lock: threading.Lock) -> None:
    """``count`` submissions over one keep-alive connection (reopened if the server closes)."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {"Content-Type": "application/json", "Connection": "keep-alive"}
    local: Counter[int] = Counter()
    try:
        for _ in range(count):
            connection.request("POST", SUBMIT_PATHS[server.name], body=BODY, headers=headers)
            response = connection.getresponse()
            response.read()
            local[response.status] += 1
            if response.will_close:
                connection.close()
    finally:
        connection.close()
        with lock:
            statuses.update(local)


def _round(server: Server, requests: int, threads: int) -> Round:
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    shares = [requests // threads + (1 if i < requests % threads else 0) for i in range(threads)]
    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(_send, server, n, statuses, lock) for n in shares]:
            future.result()
    seconds = time.perf_counter() - started
    cpu_after = server.cpu_seconds()
    cpu = None if cpu_before is None or cpu_after is None else cpu_after - cpu_before
    return Round(requests, seconds, statuses, cpu)


def _cpu_text(rounds: list[Round]) -> str:
    """Median server CPU per request and CPU seconds per second of a server's rounds."""
    cpu = [r.cpu_ms for r in rounds if r.cpu_ms is not None]
    busy = [r.busy for r in rounds if r.busy is not None]
    if not cpu or not busy:
        return "server CPU n/a"
    return (f"server CPU {statistics.median(cpu):.2f} ms/request, "
            f"{statistics.median(busy):.2f} CPU-s/s")


def _check(server: Server, result: Round) -> None:
    if set(result.statuses) != {201}:
        raise SystemExit(f"{server.name}: not every submission was accepted: "
                         f"{dict(result.statuses)}")


def _postgres_schema() -> tuple[str, str] | None:
    import psycopg

    dsn = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    schema = f"ff_bench_{uuid.uuid4().hex[:10]}"
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
    except psycopg.Error as exc:
        print(f"PostgreSQL skipped: {str(exc).strip()}")
        return None
    separator = "&" if "?" in POSTGRES_URL else "?"
    return f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}", schema


def _drop_schema(schema: str) -> None:
    import psycopg

    dsn = POSTGRES_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="per round and server")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per server")
    parser.add_argument("--warmup", type=int, default=60, help="requests before measuring")
    parser.add_argument("--workers", type=int, default=WORKERS, help="gunicorn workers")
    parser.add_argument("--server-threads", type=int, default=SERVER_THREADS,
                        help="threads per gunicorn worker")
    parser.add_argument("--redis", metavar="URL",
                        help="a scratch Redis (e.g. redis://127.0.0.1:6379/15): enqueue each "
                             "submission's notifications and keep rate limits there, as in "
                             "production; the jobs stay queued there")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    shape = Shape(args.workers, args.server_threads)

    print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs; "
          f"gunicorn {shape.workers} workers × {shape.threads} threads; "
          f"{args.threads} client threads, {args.rounds} rounds × {args.requests} submissions; "
          f"notifications {'enqueued to ' + args.redis if args.redis else 'not enqueued'}")
    folder = Path(tempfile.mkdtemp(prefix="formflow-bench-"))
    try:
        sqlite_url = f"sqlite:///{folder / 'instance' / 'formflow.sqlite3'}"
        (folder / "instance").mkdir()
        with (
            _formflow(shape, folder / "instance", sqlite_url, args.redis) as formflow,
            _baseline(shape, folder) as base,
        ):
            rounds: dict[str, list[Round]] = {"formflow": [], "baseline": []}
            for server in (formflow, base):
                _check(server, _round(server, args.warmup, args.threads))
            for _ in range(args.rounds):
                for server in (formflow, base):
                    result = _round(server, args.requests, args.threads)
                    _check(server, result)
                    rounds[server.name].append(result)
        ours = statistics.median(r.rate for r in rounds["formflow"])
        theirs = statistics.median(r.rate for r in rounds["baseline"])
        ratio = ours / theirs
        print(f"SQLite   formflow API  {ours:8.1f} submissions/s   rounds: "
              + ", ".join(f"{r.rate:.1f}" for r in rounds["formflow"]))
        print(f"SQLite   baseline      {theirs:8.1f} submissions/s   rounds: "
              + ", ".join(f"{r.rate:.1f}" for r in rounds["baseline"]))
        verdict = "meets" if ratio >= RATIO_TARGET else "BELOW"
        print(f"ratio formflow / baseline: {ratio:.2f} ({verdict} the target {RATIO_TARGET})")
        print(f"formflow {_cpu_text(rounds['formflow'])}; "
              f"baseline {_cpu_text(rounds['baseline'])}")
        cpu_ours = statistics.median(r.cpu_ms or 0.0 for r in rounds["formflow"])
        cpu_theirs = statistics.median(r.cpu_ms or 0.0 for r in rounds["baseline"])
        if cpu_ours and cpu_theirs:
            print(f"CPU per request, baseline / formflow: {cpu_theirs / cpu_ours:.2f} (where "
                  "the ratio of submissions/s differs, one server's requests spent more time "
                  "waiting — for the write lock, the disk — than the other's)")

        if not args.no_postgres and (found := _postgres_schema()) is not None:
            url, schema = found
            try:
                with _formflow(shape, folder / "instance-pg", url, args.redis) as formflow:
                    _check(formflow, _round(formflow, args.warmup, args.threads))
                    pg_rounds = []
                    for _ in range(args.rounds):
                        result = _round(formflow, args.requests, args.threads)
                        _check(formflow, result)
                        pg_rounds.append(result)
                print(f"PostgreSQL formflow API "
                      f"{statistics.median(r.rate for r in pg_rounds):6.1f} submissions/s   "
                      "rounds: " + ", ".join(f"{r.rate:.1f}" for r in pg_rounds)
                      + f"; {_cpu_text(pg_rounds)} (gunicorn only, not the PostgreSQL server)")
            finally:
                _drop_schema(schema)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
