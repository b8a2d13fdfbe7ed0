"""``make run``'s commands on embedded defaults: no Redis URL, no SMTP server, SQLite.

``formflow init``, ``formflow users ensure-admin`` and ``formflow run`` as real processes: the
server answers, its supervised worker writes the mails into ``instance/mail/``, a killed
worker is replaced, and stopping the server stops the worker and the embedded Redis it started.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from support.notifications import (
    PROJECT_ROOT,
    free_port,
    kill_session,
    session_members,
    wait_for,
    worker_environ,
)
from workers.embedded import embedded_redis_running

FORMFLOW = str(Path(sys.executable).with_name("formflow"))
CONTACT = {"name": "Jörg Müller", "email": "joerg@example.org", "subject": "Frage",
           "message": "Wann ist das nächste Treffen?", "privacy_consent": True}


def formflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([FORMFLOW, *args], env=env, cwd=PROJECT_ROOT, capture_output=True,
                          text=True, timeout=120, check=False)


def post_json(url: str, body: object) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def answers_healthz(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def mails_to(folder: Path, address: str) -> list[str]:
    found = []
    for path in sorted(folder.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=default_policy)
        if address in str(message["To"]):
            found.append(str(message["Message-ID"]))
    return found


def mail_text(folder: Path, address: str) -> str:
    """The plain-text bodies of the mails to ``address``, one after the other."""
    texts = []
    for path in sorted(folder.glob("*.eml")):
        message = message_from_bytes(path.read_bytes(), policy=default_policy)
        if address in str(message["To"]):
            body = message.get_body(("plain",))  # type: ignore[attr-defined]
            texts.append(body.get_content() if body is not None else "")
    return "\n".join(texts)


def supervised_workers(run_pid: int) -> list[int]:
    """Pids of worker main processes whose parent is the ``formflow run`` process."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text(encoding="ascii", errors="replace")
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] != "Z" and int(fields[1]) == run_pid and b"--stop-with-parent" in command:
            pids.append(int(entry.name))
    return pids


def test_make_run_commands_on_embedded_defaults(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = worker_environ(FORMFLOW_INSTANCE=str(instance))  # no Redis URL, no SMTP URL

    init = formflow("init", env=env)
    assert init.returncode == 0, init.stdout + init.stderr
    assert "form contact: version 1" in init.stdout
    created = formflow("users", "ensure-admin", env=env)
    assert created.returncode == 0, created.stderr
    assert "http://127.0.0.1:5000/login" in created.stdout
    password = re.search(r"password: (\S+)", created.stdout)
    assert password and len(password.group(1)) >= 16
    again = formflow("users", "ensure-admin", env=env)
    assert again.returncode == 0 and "password" not in again.stdout
    assert "admin@formflow.local (exists" in again.stdout

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = tmp_path / "run.log"
    with open(log_path, "wb") as log:
        run = subprocess.Popen([FORMFLOW, "run", "--port", str(port)], env=env,
                               cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        wait_for(lambda: answers_healthz(url) or run.poll() is not None, timeout=60,
                 what="the development server")
        assert run.poll() is None, log_path.read_text()
        assert f"formflow is running at {url}/" in log_path.read_text()
        assert embedded_redis_running(instance)
        [first_worker] = wait_for(lambda: supervised_workers(run.pid), timeout=30,
                                  what="the supervised worker")

        status, body = post_json(f"{url}/api/forms/contact/submissions",
                                 {"answers": CONTACT, "language": "de"})
        assert status == 201, body
        # no FORMFLOW_BASE_URL: links follow the port actually served (issue 18)
        assert str(body["status_url"]).startswith(f"{url}/status/"), body
        mail = instance / "mail"
        wait_for(lambda: mails_to(mail, "joerg@example.org"), timeout=60,
                 what="the applicant's mail file")
        assert str(body["status_url"]) in mail_text(mail, "joerg@example.org")
        wait_for(lambda: mails_to(mail, "admin@formflow.local"), timeout=60,
                 what="the coordinators' mail (the first administrator coordinates too)")

        subprocess.run(["kill", "-KILL", str(first_worker)], check=True)
        wait_for(lambda: [p for p in supervised_workers(run.pid) if p != first_worker],
                 timeout=60, what="a replacement worker")
        assert "restarting in 1 s" in log_path.read_text()
        status, body = post_json(f"{url}/api/forms/contact/submissions",
                                 {"answers": {**CONTACT, "email": "ada@example.org"}})
        assert status == 201, body
        wait_for(lambda: mails_to(mail, "ada@example.org"), timeout=60,
                 what="a mail delivered by the replacement worker")
        assert len(mails_to(mail, "joerg@example.org")) == 1
    finally:
        run.send_signal(signal.SIGTERM)
        try:
            run.wait(60)
        finally:
            leftovers = session_members(run.pid)
            kill_session(run.pid)
    assert run.returncode == 0, log_path.read_text()
    assert leftovers == [], "the server stops with its worker"
    assert supervised_workers(run.pid) == []
    deadline = time.monotonic() + 10
    while embedded_redis_running(instance) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not embedded_redis_running(instance), "run stops the embedded Redis it started"
