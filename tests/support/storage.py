"""Definitions and process entry points shared by the storage tests.

Process targets live here (not in the test modules) so that ``multiprocessing`` with the
``spawn`` start method can import them by name in the child.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.services import Database

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
        {"on": "*", "webhook": "https://example.org/hook", "secret_env": "FORMFLOW_WEBHOOK_HOOK"},
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
    from engine.services import Database

    db = Database(url)
    try:
        db.upgrade()
        return db.current_revision()
    finally:
        db.dispose()


def submit_in_process(url: str, count: int) -> list[str]:
    from engine.services import Database, submit

    db = Database(url)
    try:
        return [submit(db, "membership", VALID_ANSWERS, "de").reference for _ in range(count)]
    finally:
        db.dispose()


def fire_in_process(url: str, submission_id: str, actor: str, barrier: Any, results: Any) -> None:
    """Import everything and warm up first, then wait for the others: all fire at once."""
    from engine.exceptions import StaleState
    from engine.services import Database, fire_transition, get_submission

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

    from engine.services import Database, submit

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


def write_then_hang(url: str, writing: Any) -> None:
    """A writer that takes a reference number and adds a user, then hangs inside its open
    write transaction (holding the write lock) until the test kills it."""
    import time

    from engine.services import Database

    db = Database(url)
    with db.transaction() as store:
        store.submissions.next_reference_number("M", 2026)
        store.accounts.add_user(email="ghost@example.org", roles=["admin"], password_hash=None)
        writing.set()
        time.sleep(120)


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
    from engine.services import Database

    db = Database(f"sqlite:///{path}", busy_timeout_ms=busy_timeout_ms)
    db.upgrade()
    return publish_test_definitions(db)
