"""SQLite's write turn: writers queue for it and are woken the moment it is free.

SQLite lets one connection write at a time. A second writer's ``BEGIN IMMEDIATE`` does not
wait for the lock to be released: SQLite's busy handler *sleeps* (1, 2, 5, 10 … 100 ms) and
tries again, so while it sleeps the CPUs may idle even though the lock is long free, and a
writer that arrives later may take it first. So writers of one database file queue here
before they begin:

* threads of one process on a ``threading.RLock`` (re-entrant, as a nested transaction in
  the same thread must still fail through SQLite's busy timeout, not deadlock here);
* processes on an ``flock`` of ``<database>.writer.lock``. ``flock`` cannot time out, so a
  contended wait is done by a helper thread of the process while the writer waits for it
  with a timeout: the busy timeout still bounds the whole wait, and a stuck holder still
  gives the caller :class:`~engine.exceptions.StorageUnavailable` (a 503), never a hang.
  The kernel drops the lock with the process, so a crashed holder frees the turn at once.

Every acquisition opens its own descriptor of the lock file and closes it to release: the
lock belongs to that descriptor alone (never shared with a forked child or with an abandoned
wait still pending in the helper). When the lock file cannot be opened (e.g. a read-only
folder), writers fall back to SQLite's busy handler alone, as any other SQLite client does.
"""

from __future__ import annotations

import fcntl
import logging
import os
import queue
import threading
import time
from pathlib import Path

__all__ = ["WriterTurn"]

log = logging.getLogger(__name__)


class _Wait:
    """One contended ``flock`` handed to the helper thread."""

    __slots__ = ("abandoned", "descriptor", "done", "failed", "granted", "mutex")

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor
        self.done = threading.Lock()
        self.done.acquire()  # released by the helper once it holds the lock (or failed)
        self.mutex = threading.Lock()
        self.granted = False
        self.failed = False
        self.abandoned = False


class WriterTurn:
    """The write turn of one SQLite database: :meth:`acquire` before a write transaction
    begins, :meth:`release` when it has ended (committed or rolled back).

    ``lock_path`` None (in-memory databases) queues only the threads of this process. Only the
    thread holding ``_threads`` touches the file lock and the helper, so they need no lock.
    """

    def __init__(self, lock_path: Path | None) -> None:
        self._lock_path = lock_path
        self._threads = threading.RLock()
        self._depth = 0
        """Nesting of the thread holding ``_threads`` (only that thread touches it)."""
        self._descriptor = -1
        """The lock file's descriptor holding the flock while the turn is held (-1: none)."""
        self._helper_pid = 0
        self._waits: queue.SimpleQueue[_Wait] = queue.SimpleQueue()
        self._warned = False

    def acquire(self, timeout_s: float) -> bool:
        """Wait at most ``timeout_s`` for the turn; False if it did not come."""
        deadline = time.monotonic() + timeout_s
        if not self._threads.acquire(timeout=timeout_s):
            return False
        if self._depth == 0:
            descriptor = self._lock_file(deadline)
            if descriptor is None:
                self._threads.release()
                return False
            self._descriptor = descriptor
        self._depth += 1
        return True

    def release(self) -> None:
        """Give the turn back (by the thread that acquired it)."""
        self._depth -= 1
        if self._depth == 0:
            descriptor, self._descriptor = self._descriptor, -1
            if descriptor >= 0:
                os.close(descriptor)  # drops the flock
        self._threads.release()

    # -- the part shared with other processes -----------------------------------------

    def _lock_file(self, deadline: float) -> int | None:
        """A descriptor holding the file lock (-1: no lock file usable), or None on timeout."""
        if self._lock_path is None:
            return -1
        try:
            descriptor = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("cannot open %s (%s): SQLite writers of this process wait in "
                            "SQLite's busy handler instead", self._lock_path, exc.strerror)
            return -1
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return descriptor
        except BlockingIOError:
            pass
        except BaseException:
            os.close(descriptor)
            raise
        return self._wait(descriptor, deadline)

    def _wait(self, descriptor: int, deadline: float) -> int | None:
        wait = _Wait(descriptor)
        self._helper().put(wait)
        came = wait.done.acquire(timeout=max(0.0, deadline - time.monotonic()))
        with wait.mutex:
            if wait.granted:  # (also when it came just as we gave up: take it after all)
                return descriptor
            if wait.failed:  # closed by the helper: do without the file lock
                return -1
            assert not came
            wait.abandoned = True  # the helper closes the descriptor when it gets the lock
        return None

    def _helper(self) -> queue.SimpleQueue[_Wait]:
        """The queue of this process's helper thread (started on first need, and anew in a
        forked child, where the parent's thread does not exist)."""
        pid = os.getpid()
        if self._helper_pid != pid:
            self._waits = queue.SimpleQueue()
            threading.Thread(
                target=_serve, args=(self._waits,), name="sqlite-writer-turn", daemon=True
            ).start()
            self._helper_pid = pid
        return self._waits


def _serve(waits: queue.SimpleQueue[_Wait]) -> None:
    """Take the file lock for each waiting writer, blocking in ``flock`` (GIL released)."""
    while True:
        wait = waits.get()
        try:
            fcntl.flock(wait.descriptor, fcntl.LOCK_EX)
            failed = False
        except OSError:  # not expected for an open file; the writer goes on without it
            log.exception("flock on the SQLite writer lock failed")
            failed = True
        with wait.mutex:
            if wait.abandoned or failed:
                os.close(wait.descriptor)
            if wait.abandoned:
                continue
            wait.granted, wait.failed = not failed, failed
        wait.done.release()
