"""Definitions and process entry points shared by the storage tests.

Process targets live here (not in the test modules) so that ``multiprocessing`` with the
``spawn`` start method can import them by name in the child.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.storage import Database

WORKFLOW: dict[str, Any] = {
    "id": "review",
    "title": {"de": "Prüfung", "en": "Review"},
    "initial": "submitted",
    "states": [
        {"id": "submitted", "label": {"de": "Eingegangen", "en": "Submitted"}},
        {"id": "reviewed", "label": {"de": "Geprüft", "en": "Reviewed"}},
        {"id": "accepted", "label": {"de": "Angenommen", "en": "Accepted"}, "final": True},
        {"id": "rejected", "label": {"de": "Abgelehnt", "en": "Rejected"}, "final": True},
    ],
    "transitions": [
        {"id": "review", "from": "submitted", "to": "reviewed", "roles": ["coordinator"]},
        {"id": "accept", "from": "reviewed", "to": "accepted", "roles": ["coordinator"]},
        {"id": "fast_track", "from": "submitted", "to": "accepted", "roles": ["coordinator"],
         "when": {"field": "age", "op": "greater_or_equal", "value": 18}},
        {"id": "reject", "from": ["submitted", "reviewed"], "to": "rejected",
         "roles": ["coordinator"], "comment": "required"},
    ],
    "notifications": [
        {"on": "submitted", "to": "applicant", "template": "received"},
        {"on": "submitted", "to": "role:coordinator", "template": "new_submission"},
        {"on": "accepted", "to": "applicant", "template": "accepted"},
        {"on": "rejected", "to": "applicant", "template": "rejected"},
        {"on": "*", "webhook": "https://example.org/hook", "secret_env": "FORMFLOW_HOOK"},
    ],
    "templates": {
        name: {"subject": {"de": name, "en": name}, "body": {"de": "{{ answers.name }}",
                                                             "en": "{{ answers.name }}"}}
        for name in ("received", "new_submission", "accepted", "rejected")
    },
}

FORM: dict[str, Any] = {
    "id": "membership",
    "title": {"de": "Mitgliedschaft", "en": "Membership"},
    "languages": ["de", "en"],
    "workflow": "review",
    "applicant": {"email": "email", "name": "name"},
    "steps": [
        {"id": "person", "title": {"de": "Person", "en": "Person"}, "fields": [
            {"id": "name", "type": "text", "label": {"de": "Name", "en": "Name"},
             "required": True, "max_length": 120},
            {"id": "email", "type": "email", "label": {"de": "E-Mail", "en": "Email"}},
            {"id": "age", "type": "number", "label": {"de": "Alter", "en": "Age"}},
        ]},
        {"id": "membership", "title": {"de": "Mitgliedschaft", "en": "Membership"}, "fields": [
            {"id": "kind", "type": "select", "label": {"de": "Art", "en": "Kind"},
             "required": True,
             "options": [{"value": "person", "label": {"de": "Person", "en": "Person"}},
                         {"value": "org", "label": {"de": "Organisation", "en": "Org"}}]},
            {"id": "company", "type": "text", "label": {"de": "Firma", "en": "Company"}},
        ]},
    ],
    "rules": [
        {"when": {"field": "kind", "op": "equal_to", "value": "org"},
         "show": ["company"], "require": ["company"]},
    ],
}

VALID_ANSWERS: dict[str, Any] = {
    "name": "  Ada Lovelace ", "email": "ada@example.org", "age": "36", "kind": "person",
    "company": "hidden, so dropped", "unknown_key": "dropped too",
}


def form(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(FORM)
    data.update(changes)
    return data


def workflow(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(WORKFLOW)
    data.update(changes)
    return data


# -- process entry points (spawned children) ------------------------------------------------


def upgrade_in_process(url: str) -> str | None:
    from engine.storage import Database

    db = Database(url)
    try:
        db.upgrade()
        return db.current_revision()
    finally:
        db.dispose()


def submit_in_process(url: str, count: int) -> list[str]:
    from engine.services import submit
    from engine.storage import Database

    db = Database(url)
    try:
        return [submit(db, "membership", VALID_ANSWERS, "de").reference for _ in range(count)]
    finally:
        db.dispose()


def fire_in_process(url: str, submission_id: str, actor: str, barrier: Any, results: Any) -> None:
    """Import everything and warm up first, then wait for the others: all fire at once."""
    from engine.exceptions import StaleState
    from engine.services import fire_transition, get_submission
    from engine.storage import Database

    db = Database(url)
    try:
        get_submission(db, submission_id)  # connect and load before the starting gun
        barrier.wait(timeout=60)
        try:
            fire_transition(db, submission_id, "review", actor=actor, roles=["coordinator"],
                            expected_state="submitted")
            results.put("won")
        except StaleState:
            results.put("stale")
        except Exception as exc:  # noqa: BLE001 - the test shows any other outcome
            results.put(repr(exc))
    finally:
        db.dispose()


def submit_in_threads(url: str, threads: int, count: int, barrier: Any, results: Any) -> None:
    """``threads`` threads submitting ``count`` each, started with the other processes (after
    a warm-up submission, so all of them write at once); puts the references, or the error."""
    import threading

    from engine.services import submit
    from engine.storage import Database

    db = Database(url)
    references: list[str] = [submit(db, "membership", VALID_ANSWERS, "de").reference]
    errors: list[str] = []

    def work() -> None:
        try:
            for _ in range(count):
                references.append(submit(db, "membership", VALID_ANSWERS, "de").reference)
        except Exception as exc:  # noqa: BLE001 - reported to the test
            errors.append(repr(exc))

    try:
        barrier.wait(timeout=60)
        workers = [threading.Thread(target=work) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        results.put(errors or references)
    finally:
        db.dispose()


def hold_writer_lock(lock_path: str, holding: Any, release: Any) -> None:
    """Another process holding the SQLite writers' turn until ``release`` is set."""
    import fcntl

    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        holding.set()
        release.wait(timeout=60)


def publish_test_definitions(db: Database) -> Database:
    """``db`` with the test workflow ``review`` and form ``membership`` published."""
    from engine.services import import_definition, publish_form, publish_workflow

    import_definition(db, WORKFLOW, "workflow")
    publish_workflow(db, "review")
    import_definition(db, FORM, "form")
    publish_form(db, "membership")
    return db


def published_sqlite(path: Any, busy_timeout_ms: int = 10_000) -> Database:
    """A SQLite Database at ``path`` with the review workflow and membership form published."""
    from engine.storage import Database

    db = Database(f"sqlite:///{path}", busy_timeout_ms=busy_timeout_ms)
    db.upgrade()
    return publish_test_definitions(db)


def writer_lock_holder(lock_path: Any) -> tuple[Any, Any]:
    """Another process holding the writer lock file until the returned event is set."""
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    holding, release = context.Event(), context.Event()
    holder = context.Process(target=hold_writer_lock, args=(str(lock_path), holding, release))
    holder.start()
    assert holding.wait(timeout=60), "the holder never took the lock"
    return holder, release


def submit_then_die_in_a_batch(url: str, both_waiting: Any) -> None:
    """Two submissions queued for one batch; the second work kills the process after the
    first one's rows are written and before the commit (the parent holds the turn until
    ``both_waiting`` is set, then lets the batch run)."""
    import os
    import signal
    import threading
    import time

    from engine.services import submit
    from engine.storage import Database

    db = Database(url)
    group = db.group_commit
    assert group is not None

    def wait_for(count: int) -> None:
        deadline = time.monotonic() + 60
        while group.waiting < count:
            assert time.monotonic() < deadline, "never queued"
            time.sleep(0.005)

    def die(store: Any) -> None:
        store.submissions.next_reference_number("X", 2026)
        os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=submit, args=(db, "membership", VALID_ANSWERS, "de")).start()
    wait_for(1)
    threading.Thread(target=db.grouped, args=(die,)).start()
    wait_for(2)
    both_waiting.set()
    time.sleep(60)  # killed by the second work long before this ends
