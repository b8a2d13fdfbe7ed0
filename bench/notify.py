"""Benchmark: notification delivery against RQ's own no-op throughput, and commit→mail latency.

Run ``python bench/notify.py`` (``--help`` for the knobs). Everything is loopback-only and
lives in a temporary folder that is removed afterwards: a private ``redis-server`` on a free
127.0.0.1 port, an aiosmtpd SMTP sink on 127.0.0.1, a SQLite database (or ``--database-url``),
and worker processes that the script starts and kills. Every wait is bounded; the whole run
stops by itself.

1. **Throughput, side by side, on the same Redis.** For 1 and for 2 workers: RQ running a
   no-op job (``os.getpid``) — RQ's own ceiling on this machine — then ``formflow worker``
   delivering as many outbox rows into the SMTP sink. Both worker modes are measured:
   ``in-process`` (the default) and ``fork`` (``formflow worker --fork``), each against RQ's
   default forking ``rq.Worker`` and against ``rq.SimpleWorker``, RQ's in-process worker.
   Workers start idle; the jobs are enqueued in one go and the clock runs until the last job
   has finished (no-op) or the last mail has been received by the sink (formflow).
2. **Latency.** Two ``formflow worker`` processes per mode; accept transitions are fired at a
   fixed rate (default 50/s) through ``engine.services.fire_transition`` with the web app's
   post-commit enqueue; each one owes the applicant a mail. Latency is from the commit (the
   moment the database calls its post-commit hook) to the sink receiving the mail.

Nothing asserts a speed: the script prints the figures (``--json`` for a machine-readable
line) for docs/performance.md. The machine's load average is printed with them, since the
workers compete for the same cores as everything else running.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from aiosmtpd.controller import Controller  # noqa: E402
from redis import Redis  # noqa: E402
from rq import Queue, Worker  # noqa: E402
from rq.registry import FinishedJobRegistry  # noqa: E402

from engine.services import (  # noqa: E402
    Database,
    create_user,
    fire_transition,
    import_definition,
    notifications_for,
    publish_form,
    publish_workflow,
    submit,
)
from engine.services.tokens import submission_token_key  # noqa: E402
from workers.embedded import server_executable  # noqa: E402
from workers.queueing import RedisNames, enqueue_notifications  # noqa: E402

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SECRET_KEY = "bench-secret-key-0123456789abcdef"
NOOP_QUEUE = "bench-noop"
PHASE_TIMEOUT = 180.0

FORM: dict[str, Any] = {
    "id": "bench",
    "title": {"de": "Benchmark", "en": "Benchmark"},
    "languages": ["de", "en"],
    "workflow": "bench",
    "applicant": {"email": "email", "name": "name"},
    "steps": [{"id": "person", "title": {"de": "Person"}, "fields": [
        {"id": "name", "type": "text", "label": {"de": "Name"}, "required": True},
        {"id": "email", "type": "email", "label": {"de": "E-Mail"}, "required": True},
    ]}],
    "rules": [],
}
WORKFLOW: dict[str, Any] = {
    "id": "bench",
    "title": {"de": "Benchmark"},
    "initial": "submitted",
    "states": [
        {"id": "submitted", "label": {"de": "Eingegangen"}},
        {"id": "accepted", "label": {"de": "Angenommen"}, "final": True},
    ],
    "transitions": [{"id": "accept", "from": "submitted", "to": "accepted",
                     "roles": ["coordinator"]}],
    "notifications": [{"on": "accepted", "to": "applicant", "template": "accepted"}],
    "templates": {"accepted": {
        "subject": {"de": "Angenommen: {{ submission.reference }}"},
        "body": {"de": "Hallo {{ answers.name }},\n\nIhr Antrag „{{ submission.form_title }}“ "
                       "ist angenommen.\nStatus: {{ submission.status_url }}"},
    }},
}

NOOP_WORKER = """
import sys
from redis import Redis
from rq import Queue, SimpleWorker, Worker
connection = Redis.from_url(sys.argv[1])
worker_class = SimpleWorker if sys.argv[3] == "in-process" else Worker
worker_class([Queue(sys.argv[2], connection=connection)], connection=connection).work(
    with_scheduler=True, logging_level="WARNING")
"""
FORMFLOW_WORKER = ["-c", "from web.cli import main; main(prog_name='formflow')", "worker"]
MODES = ("in-process", "fork")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], what: str, timeout: float = PHASE_TIMEOUT,
               interval: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"gave up after {timeout:g} s waiting for {what}")
        time.sleep(interval)


class Sink:
    """SMTP sink recording when each recipient's mail arrived."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[tuple[float, str]] = []
        self._lock = threading.Lock()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.time()
        with self._lock:
            self.received.extend((now, address) for address in envelope.rcpt_tos)
        return "250 OK"

    def count(self) -> int:
        with self._lock:
            return len(self.received)

    def snapshot(self) -> list[tuple[float, str]]:
        with self._lock:
            return list(self.received)

    def __enter__(self) -> Sink:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


class Processes:
    """Every child in a session of its own; all of it killed at the end, whatever happens."""

    def __init__(self, log_folder: Path) -> None:
        self.log_folder = log_folder
        self.children: list[subprocess.Popen[bytes]] = []

    def start(self, command: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
        with open(self.log_folder / f"{name}-{len(self.children)}.log", "wb") as log:
            child = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        self.children.append(child)
        return child

    def stop(self, children: list[subprocess.Popen[bytes]] | None = None) -> None:
        for child in list(children if children is not None else self.children):
            for pid in _session(child.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            child.wait(30)
            self.children.remove(child)


def _session(session_id: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == session_id:
                pids.append(int(entry.name))
    return pids


class PostgresSchema:
    """A throwaway schema for a PostgreSQL run, so the bench never touches existing data."""

    def __init__(self) -> None:
        self.dsn: str | None = None
        self.name = f"ff_bench_{os.getpid()}_{int(time.time())}"

    def enter(self, url: str) -> str:
        import psycopg

        self.dsn = url.replace("postgresql+psycopg://", "postgresql://", 1)
        with psycopg.connect(self.dsn, autocommit=True) as connection:
            connection.execute(f'CREATE SCHEMA "{self.name}"')
        separator = "&" if "?" in url else "?"
        return f"{url}{separator}options=-csearch_path%3D{self.name}"

    def drop(self) -> None:
        if self.dsn is None:
            return
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE')


def start_redis(processes: Processes, folder: Path) -> str:
    port = free_port()
    processes.start([server_executable(), "--port", str(port), "--bind", "127.0.0.1",
                     "--dir", str(folder), "--save", "", "--appendonly", "no"],
                    dict(os.environ), "redis")
    url = f"redis://127.0.0.1:{port}/0"
    client = Redis.from_url(url)

    def answers() -> bool:
        try:
            return bool(client.ping())
        except Exception:
            return False

    wait_until(answers, "redis-server", timeout=30)
    return url


def prepare_database(url: str, count: int) -> tuple[Database, list[str]]:
    """The bench form and workflow, a coordinator, and ``count`` submissions to accept."""
    db = Database(url)
    db.upgrade()
    import_definition(db, WORKFLOW, "workflow")
    publish_workflow(db, "bench")
    import_definition(db, FORM, "form")
    publish_form(db, "bench")
    create_user(db, "coord@bench.example", ["coordinator"])
    db.submission_token_key = submission_token_key(SECRET_KEY)
    ids = [submit(db, "bench", {"name": f"P{n}", "email": f"p{n}@bench.example"}, "de").id
           for n in range(count)]
    return db, ids


def applicant_address(db: Database, submission_id: str) -> str:
    with db.read() as store:
        submission = store.submissions.get(submission_id)
    assert submission is not None
    return str(submission.answers["email"])


def worker_env(database_url: str, redis_url: str, smtp_port: int, instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORMFLOW_")}
    env.update({
        "FORMFLOW_INSTANCE": str(instance),
        "FORMFLOW_DATABASE_URL": database_url,
        "FORMFLOW_REDIS_URL": redis_url,
        "FORMFLOW_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "FORMFLOW_SECRET_KEY": SECRET_KEY,
        "FORMFLOW_BASE_URL": "https://forms.example.org",
        "FORMFLOW_NOTIFY_RELAY_INTERVAL": "3600",  # the bench enqueues; no relay rounds
    })
    return env


def workers_listening(redis_url: str, queue_name: str, count: int) -> Callable[[], bool]:
    connection = Redis.from_url(redis_url)
    queue = Queue(queue_name, connection=connection)
    return lambda: Worker.count(queue=queue) >= count


def formflow_worker(mode: str) -> list[str]:
    return [sys.executable, *FORMFLOW_WORKER, *(["--fork"] if mode == "fork" else [])]


def noop_throughput(processes: Processes, redis_url: str, mode: str, workers: int,
                    jobs: int) -> float:
    queue_name = f"{NOOP_QUEUE}-{mode}-{workers}"
    started = [processes.start([sys.executable, "-c", NOOP_WORKER, redis_url, queue_name, mode],
                               dict(os.environ), f"noop-{mode}-{workers}")
               for _ in range(workers)]
    wait_until(workers_listening(redis_url, queue_name, workers), "no-op workers", timeout=60)
    connection = Redis.from_url(redis_url)
    queue = Queue(queue_name, connection=connection)
    finished = FinishedJobRegistry(queue=queue)
    began = time.perf_counter()
    queue.enqueue_many([Queue.prepare_data("os.getpid") for _ in range(jobs)])
    wait_until(lambda: finished.count >= jobs, "the no-op jobs")
    elapsed = time.perf_counter() - began
    processes.stop(started)
    return jobs / elapsed


def accept_all(db: Database, submission_ids: list[str]) -> list[str]:
    """Fire the transitions with no hook: rows written, nothing enqueued yet."""
    hook, db.on_outbox_committed = db.on_outbox_committed, None
    try:
        return [fire_transition(db, sid, "accept", actor="bench", roles=["coordinator"])
                .notifications[0].delivery_id for sid in submission_ids]
    finally:
        db.on_outbox_committed = hook


def formflow_throughput(processes: Processes, db: Database, env: dict[str, str], sink: Sink,
                        redis_url: str, mode: str, workers: int,
                        submission_ids: list[str]) -> float:
    started = [processes.start(formflow_worker(mode), env, f"formflow-{mode}-{workers}")
               for _ in range(workers)]
    wait_until(workers_listening(redis_url, RedisNames().queue, workers), "formflow workers",
               timeout=60)
    outbox_ids = accept_all(db, submission_ids)
    expected = sink.count() + len(outbox_ids)
    connection = Redis.from_url(redis_url)
    began = time.perf_counter()
    enqueue_notifications(db, connection, outbox_ids)
    wait_until(lambda: sink.count() >= expected, "the mails")
    elapsed = time.perf_counter() - began

    def all_recorded() -> bool:  # the last mark_sent may still be committing
        return all(row.status == "sent" for sid in submission_ids
                   for row in notifications_for(db, sid))

    wait_until(all_recorded, "every row to be marked sent", timeout=60, interval=0.2)
    processes.stop(started)
    if sink.count() != expected:
        raise SystemExit(f"{sink.count() - expected} mails more than rows: a duplicate")
    return len(outbox_ids) / elapsed


def latency(processes: Processes, db: Database, env: dict[str, str], sink: Sink,
            redis_url: str, mode: str, submission_ids: list[str],
            rate: float) -> dict[str, float]:
    workers = [processes.start(formflow_worker(mode), env, f"formflow-latency-{mode}")
               for _ in range(2)]
    wait_until(workers_listening(redis_url, RedisNames().queue, 2), "formflow workers", timeout=60)
    connection = Redis.from_url(redis_url)
    committed: dict[str, float] = {}
    current = threading.local()

    def on_commit(outbox_ids: list[str]) -> None:
        committed[current.address] = time.time()  # right after the commit, before the enqueue
        enqueue_notifications(db, connection, outbox_ids)

    db.on_outbox_committed = on_commit
    emails = {sid: applicant_address(db, sid) for sid in submission_ids}

    def accept(submission_id: str) -> None:
        current.address = emails[submission_id]
        fire_transition(db, submission_id, "accept", actor="bench", roles=["coordinator"])

    before = sink.count()
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = []
        for n, submission_id in enumerate(submission_ids):
            delay = began + n / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            futures.append(pool.submit(accept, submission_id))
        for future in futures:
            future.result()
    fired = time.perf_counter() - began
    wait_until(lambda: sink.count() >= before + len(submission_ids), "the latency mails")
    db.on_outbox_committed = None
    processes.stop(workers)
    arrivals = {address: at for at, address in sink.snapshot()[before:]}
    delays = sorted(arrivals[address] - committed[address] for address in committed)
    return {
        "transitions": len(delays),
        "achieved_rate": len(submission_ids) / fired,
        "p50_ms": 1000 * statistics.median(delays),
        "p95_ms": 1000 * delays[int(0.95 * (len(delays) - 1))],
        "p99_ms": 1000 * delays[int(0.99 * (len(delays) - 1))],
        "max_ms": 1000 * delays[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=300, help="jobs/mails per throughput run")
    parser.add_argument("--rate", type=float, default=50.0, help="transitions per second")
    parser.add_argument("--duration", type=float, default=15.0, help="seconds of transitions")
    parser.add_argument("--modes", default=",".join(MODES),
                        help="worker modes: in-process (the default worker), fork (--fork)")
    parser.add_argument("--database-url", help="default: a SQLite file in the temp folder; "
                        "a PostgreSQL URL gets a throwaway schema, dropped afterwards")
    parser.add_argument("--json", action="store_true", help="print one JSON line as well")
    args = parser.parse_args()
    modes = [m for m in args.modes.split(",") if m]
    if not modes or set(modes) - set(MODES):
        parser.error(f"--modes takes {', '.join(MODES)}")

    schema_scope = PostgresSchema()
    folder = Path(tempfile.mkdtemp(prefix="formflow-bench-notify-"))
    processes = Processes(folder)
    load_before = os.getloadavg()
    results: dict[str, Any] = {"jobs": args.jobs, "rate": args.rate}
    try:
        redis_url = start_redis(processes, folder)
        database_url = args.database_url or f"sqlite:///{folder / 'bench.sqlite3'}"
        if database_url.startswith("postgresql"):
            database_url = schema_scope.enter(database_url)
        per_latency = int(args.rate * args.duration)
        needed = len(modes) * (2 * args.jobs + per_latency)
        db, pool = prepare_database(database_url, needed)
        with Sink() as sink:
            env = worker_env(database_url, redis_url, sink.port, folder / "instance")
            for workers in (1, 2):
                for kind in MODES:  # RQ's in-process and forking workers on a no-op job
                    results[f"noop-{kind}/{workers}"] = noop_throughput(
                        processes, redis_url, kind, workers, args.jobs)
                for mode in modes:
                    batch, pool = pool[:args.jobs], pool[args.jobs:]
                    results[f"{mode}/{workers}"] = formflow_throughput(
                        processes, db, env, sink, redis_url, mode, workers, batch)
            for mode in modes:
                batch, pool = pool[:per_latency], pool[per_latency:]
                results[f"{mode}/latency"] = latency(processes, db, env, sink, redis_url, mode,
                                                     batch, args.rate)
        db.dispose()
    finally:
        processes.stop()
        schema_scope.drop()
        shutil.rmtree(folder, ignore_errors=True)
    results["load_average"] = [round(x, 2) for x in (*load_before, *os.getloadavg())]
    results["cpus"] = os.cpu_count()

    backend = "SQLite" if not args.database_url else Database(args.database_url).backend
    print(f"notification throughput: {args.jobs} jobs per run, one Redis, {backend}")
    print("workers  RQ no-op: rq.Worker  rq.SimpleWorker  |  formflow mails/s: "
          "in-process (vs rq.Worker)  --fork (vs rq.Worker)")
    for workers in (1, 2):
        forking, simple = results[f"noop-fork/{workers}"], results[f"noop-in-process/{workers}"]
        cells = []
        for mode in MODES:
            ours = results.get(f"{mode}/{workers}")
            cells.append(f"{ours:6.1f} ({ours / forking:4.2f})" if ours else "     -       ")
        print(f"{workers:>7}  {forking:>17.1f}  {simple:>15.1f}  |  {cells[0]:>34}  {cells[1]:>20}")
    for mode in modes:
        lat = results[f"{mode}/latency"]
        print(f"latency commit -> mail received, {mode}, 2 workers, {lat['transitions']} "
              f"transitions at {lat['achieved_rate']:.1f}/s: p50 {lat['p50_ms']:.0f} ms, "
              f"p95 {lat['p95_ms']:.0f} ms, p99 {lat['p99_ms']:.0f} ms, "
              f"max {lat['max_ms']:.0f} ms")
    print(f"load average before/after: {results['load_average']} on {results['cpus']} CPUs")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
