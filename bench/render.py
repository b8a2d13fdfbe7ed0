"""Benchmark: the applicant's step page — served, and re-evaluated live in the browser
(run ``python bench/render.py``).

(a) **Serving.** formflow under gunicorn (2 workers, the real ``web:create_app()`` on SQLite in
    a temporary instance folder, shipped definitions imported through the services) against the
    hand-written Flask + WTForms page of ``bench/baseline_render.py`` (same fields, same page
    chrome, also 2 gunicorn workers and SQLite), in the same run. Two scenarios: a first visit
    (no cookie) and a browser with a saved draft (its session names the draft, whose answers
    fill the page). A bounded number of GETs of the membership form's *Mitarbeit* step go to
    each over keep-alive loopback connections, in alternating rounds; the median round counts.
    Prints requests/s and the ratio formflow / baseline (target ≥ 0.8), and the server
    processes' CPU time per request (less at the mercy of a busy machine than requests/s).
    Starting, stopping and watching the servers: ``bench/serving.py``.

(b) **Live re-evaluation in Chromium**: a generated 5,000-field form, one answer changed, the
    time until the rules have been re-evaluated (target < 16 ms, one frame); see
    ``bench/live_rules.py``.

Exits 1 when a target is missed by far (ratio < 0.5, or a median over 4 × 16 ms).
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script from anywhere

from engine.services import Database, save_draft  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from live_rules import bench_browser  # noqa: E402
from serving import (  # noqa: E402
    Server,
    Shape,
    formflow_env,
    get,
    gunicorn,
    prepare_formflow,
    session_cookie,
)

RATIO_TARGET = 0.8
MEMBERSHIP_ANSWERS = {
    "request": True, "name": "Ada Lovelace", "institution": "Analytical Engines e.V.",
    "function": "Mathematikerin", "street": "Unter den Linden 1", "postcode": "10117",
    "town": "Berlin", "phone": "+49 30 1234567", "email": "ada@example.org",
    "activities": "Beteiligungsverfahren in der Kommune, Bürgerräte, Moderation.",
    "topic": "transparenz", "topic_consent": True,
}
STEP_PATH = "/f/membership/step/participation"



# == (a) serving the step page =================================================================


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str
    cookies: list[str | None]
    """One cookie per client thread (None: a first visit, no cookie)."""
    marker: str
    """Text every answer must contain (the page really rendered what it should)."""


@dataclass(frozen=True)
class Round:
    rate: float
    """Requests per second."""
    cpu_ms: float | None
    """CPU time of the server processes per request (None where /proc cannot tell)."""


def _send(port: int, scenario: Scenario, cookie: str | None, count: int,
          statuses: Counter[int], lock: threading.Lock) -> None:
    """``count`` GETs over one keep-alive connection; the first body is checked."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Connection": "keep-alive", "Accept-Language": "de"}
    if cookie:
        headers["Cookie"] = cookie
    local: Counter[int] = Counter()
    try:
        for i in range(count):
            connection.request("GET", scenario.path, headers=headers)
            response = connection.getresponse()
            body = response.read()
            local[response.status] += 1
            if i == 0 and scenario.marker.encode() not in body:
                raise SystemExit(f"{scenario.name} on port {port}: the page lacks "
                                 f"{scenario.marker!r}")
            if response.will_close:
                connection.close()
    finally:
        connection.close()
        with lock:
            statuses.update(local)


def _round(server: Server, scenario: Scenario, requests: int) -> Round:
    """``requests`` GETs spread over the scenario's client threads."""
    threads = len(scenario.cookies)
    shares = [requests // threads + (1 if i < requests % threads else 0) for i in range(threads)]
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    cpu_before = server.cpu_seconds()
    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        futures = [pool.submit(_send, server.port, scenario, cookie, n, statuses, lock)
                   for cookie, n in zip(scenario.cookies, shares, strict=True)]
        for future in futures:
            future.result()
    seconds = time.perf_counter() - started
    cpu_after = server.cpu_seconds()
    if set(statuses) != {200}:
        raise SystemExit(f"{scenario.name} on port {server.port}: answers {dict(statuses)}")
    cpu_ms = None
    if cpu_before is not None and cpu_after is not None:
        cpu_ms = (cpu_after - cpu_before) * 1000 / requests
    return Round(requests / seconds, cpu_ms)


def _formflow_scenarios(server: Server, db: Database, threads: int) -> list[Scenario]:
    cookies: list[str | None] = []
    for _ in range(threads):
        token = save_draft(db, "membership", MEMBERSHIP_ANSWERS, step="participation",
                           language="de").token
        cookies.append(session_cookie(get(server.port, f"/resume/{token}")))
    return [
        Scenario("first visit", STEP_PATH, [None] * threads, 'id="field-topic"'),
        Scenario("with draft", STEP_PATH, cookies, 'selected value="transparenz"'),
    ]


def _baseline_scenarios(server: Server, threads: int) -> list[Scenario]:
    cookies: list[str | None] = [session_cookie(get(server.port, "/new-draft"))
                                 for _ in range(threads)]
    path = "/step/participation"
    return [
        Scenario("first visit", path, [None] * threads, 'id="field-topic"'),
        Scenario("with draft", path, cookies, 'selected value="transparenz"'),
    ]


def _cpu_text(ours: list[Round], theirs: list[Round]) -> str:
    """Median server CPU per request of both, and their ratio (baseline / formflow)."""
    mine = [r.cpu_ms for r in ours if r.cpu_ms is not None]
    base = [r.cpu_ms for r in theirs if r.cpu_ms is not None]
    if not mine or not base:
        return "n/a"
    a, b = statistics.median(mine), statistics.median(base)
    return f"{a:.2f} / {b:.2f} ms = {b / a:.2f}"


def bench_serving(args: argparse.Namespace) -> bool:
    shape = Shape(args.workers, args.server_threads)
    print(f"(a) GET {STEP_PATH}: formflow vs hand-written Flask + WTForms, gunicorn "
          f"{shape.workers} workers × {shape.threads} threads, {args.threads} client "
          f"threads, {args.requests} requests per round, {args.rounds} rounds")
    folder = Path(tempfile.mkdtemp(prefix="ff-bench-render-"))
    ok = True
    try:
        database_url = f"sqlite:///{folder / 'formflow.sqlite3'}"
        db = prepare_formflow(database_url)
        formflow = formflow_env(folder / "instance", database_url,
                                FORMFLOW_SECRET_KEY=secrets.token_hex(16))
        baseline = {"BASELINE_DATABASE": str(folder / "baseline.sqlite3")}
        with gunicorn(shape, "formflow", "web:create_app()", formflow, "/") as ff, \
                gunicorn(shape, "baseline", "baseline_render:create_app()", baseline, "/health",
                         extra=["--pythonpath", str(ROOT / "bench")]) as base:
            pairs = list(zip(_formflow_scenarios(ff, db, args.threads),
                             _baseline_scenarios(base, args.threads), strict=True))
            print(f"{'scenario':<12} {'formflow req/s':>15} {'baseline req/s':>15} "
                  f"{'ratio':>7}  rounds (formflow/baseline)")
            cpu_rows = []
            for ours, theirs in pairs:
                _round(ff, ours, args.warmup)
                _round(base, theirs, args.warmup)
                rounds: dict[str, list[Round]] = {"formflow": [], "baseline": []}
                for r in range(args.rounds):  # alternate who goes first: same machine load
                    order = [("formflow", ff, ours), ("baseline", base, theirs)]
                    for name, server, scenario in (order if r % 2 == 0 else order[::-1]):
                        rounds[name].append(_round(server, scenario, args.requests))
                ff_rate = statistics.median(r.rate for r in rounds["formflow"])
                base_rate = statistics.median(r.rate for r in rounds["baseline"])
                ratio = ff_rate / base_rate
                verdict = "ok" if ratio >= RATIO_TARGET else "MISSED"
                each = ", ".join(f"{a.rate:.0f}/{b.rate:.0f}"
                                 for a, b in zip(rounds["formflow"], rounds["baseline"],
                                                 strict=True))
                print(f"{ours.name:<12} {ff_rate:>15.0f} {base_rate:>15.0f} {ratio:>7.2f}  "
                      f"{each}  {verdict} (target ≥ {RATIO_TARGET})")
                cpu_rows.append((ours.name, _cpu_text(rounds["formflow"], rounds["baseline"])))
                ok = ok and ratio >= RATIO_TARGET / 1.6
            for name, text in cpu_rows:
                print(f"server CPU per request, {name}: formflow / baseline {text}")
            sizes = (len(_body(ff.port, STEP_PATH)), len(_body(base.port, "/step/participation")))
            print(f"page size: formflow {sizes[0]:,} bytes, baseline {sizes[1]:,} bytes")
        db.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return ok


def _body(port: int, path: str) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    body = connection.getresponse().read()
    connection.close()
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="GETs per round and server")
    parser.add_argument("--threads", type=int, default=4, help="client threads")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds per server")
    parser.add_argument("--warmup", type=int, default=40, help="GETs before measuring")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--server-threads", type=int, default=2, help="threads per worker")
    parser.add_argument("--fields", type=int, default=5000, help="fields of the live form")
    parser.add_argument("--reps", type=int, default=25, help="repetitions per measurement")
    parser.add_argument("--only", choices=("serving", "browser"), help="run one part only")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print the N functions with the most self time of the DOM runs")
    args = parser.parse_args(argv)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, load average {os.getloadavg()[0]:.1f}")
    ok = True
    if args.only in (None, "serving"):
        ok = bench_serving(args) and ok
    if args.only in (None, "browser"):
        ok = bench_browser(args) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
