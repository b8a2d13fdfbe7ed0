"""Benchmark: durable submissions per second (run ``python bench/submit.py``).

Each submission is the full path a 201 stands for: evaluate the answers, take a reference
number, insert the submission, its ``created`` event and the outbox rows, commit (fsync'd:
SQLite runs WAL with ``synchronous=FULL``). The script measures one writer and several
concurrent writers (threads) against a fresh SQLite file, and against PostgreSQL when
``--postgres URL`` is given (a throwaway schema is created and dropped), then fires a
transition on every submission to time the optimistic-concurrency update.

Nothing here asserts a speed; it prints numbers so that changes to storage can be compared on
the same machine. This is the ``submit`` service alone, without HTTP; the issue's figure (the
JSON API under gunicorn against the hand-written ``bench/baseline_submit.py``, same run) comes
from ``bench/api_submit.py``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from engine.services import (  # noqa: E402
    Database,
    fire_transition,
    import_directory,
    submit,
)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
ANSWERS: dict[str, Any] = {
    "name": "Ada Lovelace",
    "email": "ada@example.org",
    "subject": "Benchmark",
    "message": "Benchmark message with a little text in it.",
    "privacy_consent": True,
}


def _prepare(url: str) -> tuple[Database, str, dict[str, Any]]:
    db = Database(url)
    db.upgrade()
    outcomes = import_directory(db, PROJECT_ROOT / "forms", PROJECT_ROOT / "workflows")
    refused = [o.path.name for o in outcomes if not o.ok]
    if refused:
        raise SystemExit(f"shipped definitions refused: {refused}")
    return db, "contact", ANSWERS


def _submit_many(db: Database, form_id: str, answers: dict[str, Any], count: int) -> list[str]:
    return [submit(db, form_id, answers, "de").id for _ in range(count)]


def _threads(db: Database, form_id: str, answers: dict[str, Any], threads: int,
             per_thread: int) -> tuple[float, list[str]]:
    ids: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        done = _submit_many(db, form_id, answers, per_thread)
        with lock:
            ids.extend(done)

    workers = [threading.Thread(target=work) for _ in range(threads)]
    start = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - start, ids


def run(label: str, url: str, count: int, threads: int) -> None:
    db, form_id, answers = _prepare(url)
    try:
        submit(db, form_id, answers, "de")  # warm up: load and compile the definitions once
        start = time.perf_counter()
        ids = _submit_many(db, form_id, answers, count)
        single = time.perf_counter() - start
        elapsed, more = _threads(db, form_id, answers, threads, max(1, count // threads))
        start = time.perf_counter()
        for sid in ids:
            fire_transition(db, sid, "review", actor="bench", roles=["coordinator"],
                            expected_state="submitted")
        fired = time.perf_counter() - start
        print(f"{label:10} submit x{count} (1 writer): {count / single:8.1f}/s  "
              f"{single / count * 1000:6.2f} ms each")
        print(f"{label:10} submit x{len(more)} ({threads} threads): "
              f"{len(more) / elapsed:8.1f}/s")
        print(f"{label:10} transition x{count}: {count / fired:8.1f}/s  "
              f"{fired / count * 1000:6.2f} ms each")
    finally:
        db.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200, help="submissions per measurement")
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--postgres", metavar="URL",
                        help="also measure PostgreSQL, e.g. postgresql+psycopg://postgres@"
                             "127.0.0.1:5432/test")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        run("sqlite", f"sqlite:///{folder}/bench.db", args.count, args.threads)
    if args.postgres:
        import psycopg

        schema = f"ff_bench_{uuid.uuid4().hex[:10]}"
        dsn = args.postgres.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{schema}"')
        try:
            separator = "&" if "?" in args.postgres else "?"
            run("postgresql", f"{args.postgres}{separator}options=-csearch_path%3D{schema}",
                args.count, args.threads)
        finally:
            with psycopg.connect(dsn, autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return 0


if __name__ == "__main__":
    sys.exit(main())
