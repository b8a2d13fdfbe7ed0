"""Benchmark: the applicant's step page, formflow against a hand-written Flask + WTForms page of
the same step (run ``python bench/render.py``).

formflow (the real ``web:create_app()`` on SQLite, shipped definitions imported through the
services) and ``bench/baseline_render.py`` run side by side under gunicorn, 2 workers each. The
same client sends first-visit GETs (no cookie, German) of the membership form's first step to
both, in alternating rounds; the script prints requests/s of both and the ratio
formflow / baseline (target ≥ 0.8). The live re-evaluation in the browser is a separate
benchmark: ``bench/live_rules.py``.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

from serving import ROOT, Request, compare, formflow_env, gunicorn, prepare_formflow

TARGET = 0.8
HEADERS = {"Accept-Language": "de"}
FORMFLOW = Request("GET", "/f/membership/step/person", 200, headers=HEADERS,
                   marker=b'id="field-name"')
BASELINE = Request("GET", "/step/person", 200, headers=HEADERS, marker=b'id="field-name"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per round and server")
    parser.add_argument("--requests", type=int, default=10000, help="at most, per round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per server")
    parser.add_argument("--clients", type=int, default=4, help="client threads")
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                            capture_output=True, text=True).stdout.strip()
    print(f"commit {commit}; Python {platform.python_version()}, {os.cpu_count()} CPUs, load "
          f"average {os.getloadavg()[0]:.1f}; {args.rounds} rounds of ≤ {args.seconds:g} s, "
          f"{args.clients} clients")
    with tempfile.TemporaryDirectory(prefix="ff-bench-render-") as folder:
        url = f"sqlite:///{Path(folder) / 'formflow.sqlite3'}"
        prepare_formflow(url)
        env = formflow_env(Path(folder) / "instance", url, FORMFLOW_SECRET_KEY="bench-only")
        with (
            gunicorn("formflow", "web:create_app()", env, "/") as ours,
            gunicorn("baseline", "baseline_render:create_app()", {}, "/health",
                     ROOT / "bench") as theirs,
        ):
            print(f"GET {FORMFLOW.path} against GET {BASELINE.path} (first visit):")
            rates = compare([(ours, FORMFLOW), (theirs, BASELINE)], args.rounds, args.seconds,
                            args.requests, args.clients)
    ratio = rates[0] / rates[1]
    verdict = "meets" if ratio >= TARGET else "BELOW"
    print(f"  ratio formflow / baseline: {ratio:.2f} ({verdict} the target {TARGET})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
