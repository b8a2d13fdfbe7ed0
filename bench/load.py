"""Load test: many concurrent applicants, and every accepted submission is stored
(run ``python bench/load.py``; not part of CI, and nothing here is timed against a target).

The real app (``web:create_app()`` under gunicorn, as ``bench/serving.py`` starts it: 2 workers
with 2 threads each, on a free loopback port; the submission rate limit raised by
configuration; outbox rows written but not enqueued, so no Redis is needed) gets valid
membership submissions from ``--clients`` concurrent keep-alive connections (default 64) for
``--seconds`` (default 60), at most ``--requests`` in all. Then the submissions in the database
are counted. The run passes when

* no answer was a 5xx and no connection failed, and
* the database holds exactly as many submissions as there were 2xx answers
  (none lost, none stored twice),

first on a fresh SQLite file, then on a fresh PostgreSQL schema (skipped, with a note, when
PostgreSQL cannot be reached, or with ``--no-postgres``). It prints a summary per database and
exits 1 if a run failed.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from api_submit import FORMFLOW
from serving import Server, formflow_env, gunicorn, postgres_schemas, prepare_formflow

from engine.services import Database

CONFIG = {"RATELIMIT_SUBMISSIONS": "100000000 per minute", "NOTIFY_ENQUEUE": False}


@dataclass
class Tally:
    """What the clients saw, added up under a lock as each client finishes."""

    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def accepted(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def _client(port: int, stop_at: float, count: int, tally: Tally) -> None:
    """Up to ``count`` submissions over one keep-alive connection until ``stop_at``; a broken
    connection is counted and opened again."""
    statuses: Counter[int] = Counter()
    failures: Counter[str] = Counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Connection": "keep-alive", **FORMFLOW.headers}
    sent = 0
    try:
        while sent < count and time.monotonic() < stop_at:
            sent += 1
            try:
                connection.request(FORMFLOW.method, FORMFLOW.path, body=FORMFLOW.body,
                                   headers=headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                failures[type(exc).__name__] += 1
                connection.close()
                continue
            statuses[response.status] += 1
            if response.will_close:
                connection.close()
    finally:
        connection.close()
        with tally.lock:
            tally.statuses.update(statuses)
            tally.failures.update(failures)


def stored_submissions(database_url: str) -> int:
    db = Database(database_url)
    try:
        with db.read() as store:
            return store.submissions.count()
    finally:
        db.dispose()


def run(label: str, database_url: str, instance: Path, args: argparse.Namespace) -> bool:
    """One load run on one database; True when it passed."""
    prepare_formflow(database_url)
    tally = Tally()
    with gunicorn("formflow", f"web:create_app({CONFIG!r})",
                  formflow_env(instance, database_url), "/api/forms") as server:
        elapsed = _load(server, args, tally)
    rows = stored_submissions(database_url)
    passed = tally.server_errors == 0 and not tally.failures and rows == tally.accepted
    statuses = ", ".join(f"{n} × {status}" for status, n in sorted(tally.statuses.items()))
    print(f"{label}: {'PASS' if passed else 'FAIL'}")
    print(f"  {sum(tally.statuses.values())} answers in {elapsed:.1f} s from {args.clients} "
          f"connections ({sum(tally.statuses.values()) / elapsed:.0f}/s): {statuses or 'none'}")
    print(f"  connection failures: {dict(tally.failures) or 0}; 5xx: {tally.server_errors}")
    print(f"  submissions stored: {rows}; 2xx answers: {tally.accepted}"
          f"{'' if rows == tally.accepted else '  <- MISMATCH'}")
    return passed


def _load(server: Server, args: argparse.Namespace, tally: Tally) -> float:
    started = time.monotonic()
    share = -(-args.requests // args.clients)
    with ThreadPoolExecutor(args.clients) as pool:
        for future in [pool.submit(_client, server.port, started + args.seconds, share, tally)
                       for _ in range(args.clients)]:
            future.result()
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="per database")
    parser.add_argument("--clients", type=int, default=64, help="concurrent connections")
    parser.add_argument("--requests", type=int, default=200_000,
                        help="at most, per database")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f}; ≤ {args.seconds:g} s and ≤ {args.requests} requests per "
          f"database, {args.clients} connections")
    results = []
    with tempfile.TemporaryDirectory(prefix="ff-load-") as folder:
        base = Path(folder)
        (base / "instance").mkdir()
        results.append(run("SQLite", f"sqlite:///{base / 'instance' / 'formflow.sqlite3'}",
                           base / "instance", args))
        if not args.no_postgres:
            with postgres_schemas(1) as urls:
                if urls is not None:
                    results.append(run("PostgreSQL", urls[0], base / "instance-pg", args))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
