"""Benchmark: membership submissions per second through the JSON API, against a hand-written
baseline doing the same durable work (run ``python bench/api_submit.py``).

formflow (the real ``web:create_app()``, submission rate limit raised, outbox rows written but
not enqueued, so no Redis is needed) and ``bench/baseline_submit.py`` (Flask + WTForms +
SQLAlchemy: validation, reference number, submission row, audit event, outbox row and token
hash in one transaction) run side by side under gunicorn, 2 workers each, on the same kind of
database: SQLite files with the same settings, then two fresh PostgreSQL schemas. Both get the
same valid submission from the same client in alternating rounds; the script prints their
submissions/s and the ratio formflow / baseline (target ≥ 0.8 on each database). The
baseline's ``/minimal`` endpoint (validation and one INSERT) is reported on SQLite as the
floor, without a target. Every answer must be 201, or the run fails.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

import baseline_submit
from serving import (
    ROOT,
    Request,
    Server,
    compare,
    formflow_env,
    gunicorn,
    postgres_schemas,
    prepare_formflow,
)

TARGET = 0.8
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
HEADERS = {"Content-Type": "application/json"}
FORMFLOW = Request("POST", "/api/forms/membership/submissions", 201, BODY, HEADERS)
BASELINE = Request("POST", "/submit", 201, BODY, HEADERS)
MINIMAL = Request("POST", "/minimal", 201, BODY, HEADERS)
CONFIG = {"RATELIMIT_SUBMISSIONS": "100000000 per minute", "NOTIFY_ENQUEUE": False}


def run(label: str, formflow_url: str, baseline_url: str, instance: Path,
        args: argparse.Namespace, floor: bool) -> float:
    prepare_formflow(formflow_url)
    baseline_submit.prepare(baseline_url)
    print(f"{label}:")
    with (
        gunicorn("formflow", f"web:create_app({CONFIG!r})",
                 formflow_env(instance, formflow_url), "/api/forms") as ours,
        gunicorn("baseline", "baseline_submit:create_app()",
                 {"BASELINE_DATABASE_URL": baseline_url}, "/health", ROOT / "bench") as theirs,
    ):
        pairs = [(ours, FORMFLOW), (theirs, BASELINE)]
        if floor:
            pairs.append((Server("baseline /minimal", theirs.port, theirs.process), MINIMAL))
        rates = compare(pairs, args.rounds, args.seconds, args.requests, args.clients)
    ratio = rates[0] / rates[1]
    verdict = "meets" if ratio >= TARGET else "BELOW"
    print(f"  ratio formflow / baseline: {ratio:.2f} ({verdict} the target {TARGET})")
    if floor:
        print(f"  ratio formflow / minimal floor: {rates[0] / rates[2]:.2f} (no target)")
    return ratio


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per round and server")
    parser.add_argument("--requests", type=int, default=5000, help="at most, per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    print(f"commit {commit}; Python {platform.python_version()}, {os.cpu_count()} CPUs, load "
          f"average {os.getloadavg()[0]:.1f}; {args.rounds} rounds of ≤ {args.seconds:g} s, "
          f"{args.clients} clients")
    with tempfile.TemporaryDirectory(prefix="ff-bench-submit-") as folder:
        base = Path(folder)
        (base / "instance").mkdir()
        run("SQLite", f"sqlite:///{base / 'instance' / 'formflow.sqlite3'}",
            f"sqlite:///{base / 'baseline.sqlite3'}", base / "instance", args, floor=True)
        if not args.no_postgres:
            with postgres_schemas(2) as urls:
                if urls is not None:
                    run("PostgreSQL", urls[0], urls[1], base / "instance-pg", args,
                        floor=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
