"""Keep ``formflow worker`` alive through a Redis outage: start RQ's worker again when it ends
without having been asked to.

RQ's worker rides out a Redis outage while it waits for a job, but not while it finishes one:
the heartbeat after the job raises, RQ logs "found an unhandled exception, quitting" and its
``work()`` ends (or raises, when unregistering fails too). Instead of reaching into RQ, the
loop here runs one RQ worker after another: when a run ends without SIGTERM/SIGINT, it waits
(1 s, doubling up to 30 s; back to 1 s after a run that lasted a minute) and starts a fresh
worker, which fails fast while Redis is still down and works again once it is back. What the
interrupted run was delivering is retried as after any worker crash (docs/notifications.md).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["FIRST_WAIT", "HEALTHY_AFTER", "MAX_WAIT", "RunOutcome", "keep_running"]

log = logging.getLogger(__name__)

FIRST_WAIT = 1.0
MAX_WAIT = 30.0
HEALTHY_AFTER = 60.0
"""A run that lasted this long before ending restarts after the shortest wait again."""


@dataclass(frozen=True)
class RunOutcome:
    """How one run of RQ's worker ended."""

    worked: bool
    """It processed at least one job."""
    stop_requested: bool
    """SIGTERM/SIGINT (or burst mode): the end was wanted, nothing is started again."""
    error: BaseException | None = None
    """What it ended on, when that reached us (a Redis error while unregistering, say)."""


def keep_running(run_once: Callable[[], RunOutcome]) -> bool:
    """Call ``run_once`` again and again until a run ends on request; True if any run worked."""
    worked = False
    wait = FIRST_WAIT
    while True:
        started = time.monotonic()
        outcome = run_once()
        worked = worked or outcome.worked
        if outcome.stop_requested:
            return worked
        if time.monotonic() - started >= HEALTHY_AFTER:
            wait = FIRST_WAIT
        why = (f"on {type(outcome.error).__name__}: {outcome.error}" if outcome.error
               else "on its own (Redis lost? see RQ's lines above)")
        log.error("RQ's worker ended %s; starting it again in %g s", why, wait)
        if _stopped_while_waiting(wait):
            log.info("stop requested while waiting to start the worker again")
            return worked
        wait = min(wait * 2, MAX_WAIT)


def _stopped_while_waiting(seconds: float) -> bool:
    """Sleep ``seconds``; True if SIGTERM or SIGINT arrived meanwhile (RQ's own handlers are
    only installed while its worker runs, so between runs these signals are ours)."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda _signum, _frame: stop.set())
                for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return stop.wait(seconds)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
