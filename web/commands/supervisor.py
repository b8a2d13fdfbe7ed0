"""The notification worker that ``formflow run`` keeps alive beside the development server.

The worker is a child process (``formflow worker --stop-with-parent``), not a thread: RQ forks
a work horse per job and installs signal handlers, neither of which mixes with a threaded web
server in one process. A thread of the server process watches the child and starts it again
when it dies, waiting a little longer after each quick crash (1 s doubling up to 30 s) so a
worker that cannot start does not spin. Stopping the server stops the worker: SIGTERM (RQ
finishes the job at hand), SIGKILL after a grace period. Should the server itself be killed,
the child notices its standard input closing and stops on its own.

The child runs in its own session, so Ctrl+C in the terminal reaches only the server, which
then stops the worker in order — otherwise the supervisor would race the terminal's SIGINT
and restart a worker that was meant to end. Its session is also its process group: when the
worker dies (even by SIGKILL) or the server stops, the whole group is ended
(:func:`end_process_group`), so RQ's scheduler process never outlives its worker.
docs/deploy.md says what other process managers need for the same.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from flask import Flask

__all__ = ["WorkerSupervisor", "end_process_group", "start_worker"]

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 20.0
_MAX_BACKOFF = 30.0
_HEALTHY_AFTER = 60.0
"""A worker that ran this long before dying restarts after the shortest wait again."""


def worker_command() -> list[str]:
    """``formflow worker --stop-with-parent`` run by the same interpreter as this process."""
    return [sys.executable, "-c", "from web.cli import main; main(prog_name='formflow')",
            "worker", "--stop-with-parent"]


class WorkerSupervisor:
    """Start ``command`` now and keep one instance of it running until :meth:`stop`."""

    def __init__(self, command: Sequence[str], *, cwd: str | Path | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self.command = list(command)
        self.cwd = cwd
        self.env = dict(env) if env is not None else None
        self.restarts = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="worker-supervisor",
                                        daemon=True)

    @property
    def pid(self) -> int | None:
        with self._lock:
            return self._process.pid if self._process is not None else None

    def start(self) -> WorkerSupervisor:
        self._spawn()
        self._thread.start()
        return self

    def _spawn(self) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self._process = subprocess.Popen(
                self.command, cwd=self.cwd, env=self.env, stdin=subprocess.PIPE,
                start_new_session=True,
            )

    def _watch(self) -> None:
        backoff = 1.0
        while not self._stopping.is_set():
            with self._lock:
                process = self._process
            if process is None:
                return
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            end_process_group(process.pid)
            if time.monotonic() - started > _HEALTHY_AFTER:
                backoff = 1.0
            log.warning("notification worker (pid %s) exited with %s; restarting in %g s",
                        process.pid, code, backoff)
            print(f"formflow run: the notification worker exited ({code}); restarting in "
                  f"{backoff:g} s", file=sys.stderr, flush=True)
            if self._stopping.wait(backoff):
                return
            backoff = min(backoff * 2, _MAX_BACKOFF)
            self.restarts += 1
            self._spawn()

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> int | None:
        """Stop the worker (SIGTERM, then SIGKILL after ``grace`` seconds); its exit code."""
        self._stopping.set()
        with self._lock:
            process = self._process
        if process is None:
            return None
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        end_process_group(process.pid)
        if process.stdin is not None:
            process.stdin.close()
        self._thread.join(timeout=5)
        return process.returncode


def end_process_group(group: int, grace: float = 5.0) -> None:
    """End what a dead worker left in its process group: RQ's scheduler process.

    The scheduler is forked from the worker and shares its Redis sockets; left alive, it keeps
    the dead worker's blocking dequeue open on the server, so Redis would hand the next job to
    a worker that no longer exists (RQ only recovers such a job a minute or two later). SIGTERM
    first, so it releases the scheduler lock; SIGKILL for anything still there after ``grace``.
    """
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(group, sig)
        except (ProcessLookupError, PermissionError):
            return
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(group, 0)
            except (ProcessLookupError, PermissionError):
                return
            time.sleep(0.05)


def start_worker(app: Flask) -> tuple[WorkerSupervisor, bool]:
    """Start the supervised worker for ``app``; also the embedded Redis when no
    ``FORMFLOW_REDIS_URL`` is set. Returns the supervisor and whether Redis was started here
    (so the caller can stop it again)."""
    from workers.embedded import embedded_redis_running, ensure_embedded_redis

    started_redis = False
    if not app.config.get("REDIS_URL"):
        started_redis = not embedded_redis_running(app.instance_path)
        ensure_embedded_redis(app.instance_path)
    # The worker builds the links in mails: it uses the app's base URL, whether configured
    # or the address ``formflow run`` serves.
    environ = {**os.environ, "FORMFLOW_BASE_URL": str(app.config.get("BASE_URL") or "")}
    supervisor = WorkerSupervisor(worker_command(), env=environ).start()
    return supervisor, started_redis
