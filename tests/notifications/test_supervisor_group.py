"""``formflow run``'s supervisor and a worker killed with SIGKILL: nothing of the dead worker's
process group survives — in particular not RQ's scheduler process, which would otherwise be
re-parented to PID 1 and keep the dead worker's Redis connections open.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from support.notifications import PROJECT_ROOT, kill_session, session_members, wait_for
from web.commands.supervisor import WorkerSupervisor, worker_command


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[2])


@pytest.mark.slow
def test_sigkilled_worker_leaves_nothing_of_its_group(
    worker_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in worker_env.items():  # the supervised worker inherits this environment
        monkeypatch.setenv(name, value)
    supervisor = WorkerSupervisor(worker_command(), cwd=PROJECT_ROOT).start()
    try:
        first = supervisor.pid
        assert first is not None
        # The worker and the scheduler it forks, in the worker's own session and group.
        members = wait_for(lambda: [p for p in session_members(first) if p != first],
                           timeout=90, what="RQ's scheduler process beside the worker")
        assert all(parent_of(p) == first for p in members)

        os.kill(first, signal.SIGKILL)
        wait_for(lambda: not session_members(first), timeout=30,
                 what="every process of the killed worker's group to end")
        second = wait_for(lambda: supervisor.pid if supervisor.pid != first else None,
                          timeout=60, what="a replacement worker")
        wait_for(lambda: [p for p in session_members(second) if p != second], timeout=90,
                 what="the replacement's scheduler")
    finally:
        supervisor.stop()
        left = session_members(first)
        kill_session(first)  # should the test fail, leave nothing behind either
    assert left == []
    assert session_members(second) == [], "stopping the supervisor ends the worker's group"
