"""Let a stopping RQ worker end its command listener at once instead of after a minute.

Every RQ worker listens for RQ's worker commands (``rq.command``: shut down, stop or kill a
job) in a redis-py pub/sub thread that waits up to 60 s per read. When the worker ends, RQ's
``unsubscribe()`` sends UNSUBSCRIBE — whose reply wakes that thread — and only then asks the
thread to stop; since redis-py 8, ``PubSubWorkerThread.stop()`` also waits for the thread to
end, without a bound. If the thread handles the reply before the stop request (a race that a
busy machine loses often), it starts its next read: with no subscription left, that is a
60 s wait for one, and the worker's exit waits with it — a SIGTERM that takes a minute.

Asking the thread to stop *before* RQ unsubscribes makes the reply to RQ's UNSUBSCRIBE the
last thing it reads, whatever the scheduling. Upstream: rq/rq#2172 (UNSUBSCRIBE wakes the
thread), rq/rq#2228 (its 60 s wait), rq/rq#1613 (exits stuck joining this thread).
"""

from __future__ import annotations

from rq.worker import BaseWorker

__all__ = ["PromptUnsubscribe"]


class PromptUnsubscribe(BaseWorker):
    """An RQ worker whose exit never waits for its command listener's 60 s timeout."""

    def unsubscribe(self) -> None:
        listener = self.pubsub_thread
        if listener is not None:
            # Clears the thread's running flag only (no wait): the thread ends right after
            # its current read, which RQ's UNSUBSCRIBE below completes.
            listener.stop(timeout=0)
        super().unsubscribe()  # type: ignore[no-untyped-call]
