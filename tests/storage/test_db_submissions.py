"""Submitting: visible answers, the created event and notifications, all or nothing."""

from __future__ import annotations

import multiprocessing
import re
import threading
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from engine.exceptions import NotFound, StorageUnavailable, SubmissionInvalid
from engine.services import (
    Database,
    create_user,
    get_submission,
    history,
    import_definition,
    notifications_for,
    publish_form,
    published_form,
    submission_for_token,
    submit,
)
from engine.services.tokens import hash_token
from engine.storage.tables import Base
from support.storage import VALID_ANSWERS, form, submit_in_process


def _dump(db: Database) -> str:
    """Every row of every table as text: what an attacker with a database copy would see."""
    engine = create_engine(db.engine.url)
    try:
        with engine.connect() as connection:
            return "\n".join(
                repr(row)
                for table in Base.metadata.sorted_tables
                for row in connection.execute(table.select())
            )
    finally:
        engine.dispose()


def _count(db: Database, table: str) -> int:
    with db.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_submit_stores_visible_answers_event_and_outbox(published_db: Database) -> None:
    db = published_db
    create_user(db, "coord@example.org", ["coordinator"])
    create_user(db, "admin@example.org", ["admin"])
    created = submit(db, "membership", VALID_ANSWERS, "en")

    assert re.fullmatch(r"M-2026-00001", created.reference)
    assert re.fullmatch(r"[0-9a-f]{32}", created.id)
    assert created.state == "submitted"
    submission = get_submission(db, created.id)
    assert submission.answers == {"age": 36, "email": "ada@example.org", "kind": "person",
                                  "name": "Ada Lovelace"}
    assert (submission.form_id, submission.form_version) == ("membership", 1)
    assert (submission.workflow_id, submission.workflow_version) == ("review", 1)
    assert (submission.language, submission.version) == ("en", 1)

    [event] = history(db, created.id)
    assert (event.kind, event.to_state, event.actor) == ("created", "submitted", "applicant")

    outbox = notifications_for(db, created.id)
    assert sorted((o.channel, o.recipient, o.role, o.template, o.language) for o in outbox) == [
        ("mail", "ada@example.org", "applicant", "received", "en"),
        ("mail", "coord@example.org", "coordinator", "new_submission", "de"),
        ("webhook", None, None, None, "en"),
    ]
    assert all(o.status == "pending" and o.event_id == event.id for o in outbox)
    assert len({o.delivery_key for o in outbox}) == 3
    webhook = next(o for o in outbox if o.channel == "webhook")
    assert webhook.url == "https://example.org/hook"
    assert webhook.secret_env == "FORMFLOW_WEBHOOK_HOOK"


def test_invalid_answers_raise_with_every_error_and_store_nothing(
    published_db: Database,
) -> None:
    db = published_db
    with pytest.raises(SubmissionInvalid) as refused:
        submit(db, "membership", {"kind": "org", "age": "old"}, "de")
    assert set(refused.value.errors) == {"name", "company", "age"}
    assert all(refused.value.errors[f] for f in refused.value.errors)
    assert _count(db, "submissions") == _count(db, "events") == _count(db, "outbox") == 0
    assert _count(db, "reference_counters") == 0


def test_unknown_or_unpublished_form_is_not_found(published_db: Database) -> None:
    with pytest.raises(NotFound):
        submit(published_db, "nope", {}, "de")
    import_definition(published_db, form(id="draft_only"), "form")  # imported, not published
    with pytest.raises(NotFound):
        submit(published_db, "draft_only", VALID_ANSWERS, "de")


def test_a_failure_mid_transaction_leaves_nothing_behind(published_db: Database) -> None:
    """A real database trigger refuses the outbox insert: submission, event and reference
    number must all roll back with it."""
    db = published_db
    with db.engine.begin() as connection:
        if db.backend == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON outbox "
                "BEGIN SELECT RAISE(ABORT, 'outbox refused'); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'outbox refused'; END $$ LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON outbox "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
    with pytest.raises(Exception, match="outbox refused"):
        submit(db, "membership", VALID_ANSWERS, "de")
    assert _count(db, "submissions") == _count(db, "events") == _count(db, "outbox") == 0
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DROP TRIGGER refuse" + ("" if db.backend == "sqlite"
                                                            else " ON outbox"))
    assert submit(db, "membership", VALID_ANSWERS, "de").reference == "M-2026-00001"


def test_references_follow_the_prefix_and_year(published_db: Database, clock: Any) -> None:
    db = published_db
    assert submit(db, "membership", VALID_ANSWERS).reference == "M-2026-00001"
    assert submit(db, "membership", VALID_ANSWERS).reference == "M-2026-00002"
    clock.advance(days=365)
    assert submit(db, "membership", VALID_ANSWERS).reference == "M-2027-00001"
    import_definition(db, form(id="mitglied", reference_prefix="MG"), "form")
    publish_form(db, "mitglied")
    assert submit(db, "mitglied", VALID_ANSWERS).reference == "MG-2027-00001"
    import_definition(db, form(id="musik"), "form")  # same first letter: shares the counter
    publish_form(db, "musik")
    assert submit(db, "musik", VALID_ANSWERS).reference == "M-2027-00002"


def test_references_are_unique_under_concurrent_threads(published_db: Database) -> None:
    db = published_db
    references: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def work() -> None:
        try:
            barrier.wait()
            for _ in range(5):
                references.append(submit(db, "membership", VALID_ANSWERS, "de").reference)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(references) == [f"M-2026-{n:05d}" for n in range(1, 31)]


def test_references_are_unique_under_concurrent_processes(published_db: Database) -> None:
    url = published_db.engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        batches = pool.starmap(submit_in_process, [(url, 4)] * 3)
    references = [r for batch in batches for r in batch]
    assert len(references) == len(set(references)) == 12
    assert _count(published_db, "submissions") == 12


def test_the_plain_token_is_never_stored(published_db: Database) -> None:
    db = published_db
    created = submit(db, "membership", VALID_ANSWERS, "de")
    assert len(created.token) >= 43  # 32 random bytes, urlsafe base64
    dump = _dump(db)
    assert created.token not in dump
    assert hash_token(created.token) in dump
    found = submission_for_token(db, created.token)
    assert found is not None and found.id == created.id
    assert submission_for_token(db, created.token + "x") is None
    assert submission_for_token(db, "") is None


def test_a_submission_keeps_its_form_version(published_db: Database) -> None:
    db = published_db
    before = submit(db, "membership", VALID_ANSWERS, "de")
    import_definition(db, form(title={"de": "Neu", "en": "New"}), "form")
    publish_form(db, "membership")
    after = submit(db, "membership", VALID_ANSWERS, "de")
    assert get_submission(db, before.id).form_version == 1
    assert get_submission(db, after.id).form_version == 2


def _publish_elsewhere(db: Database, data: dict[str, Any]) -> None:
    """Publish a new form version through another Database (as another process would)."""
    other = Database(db.engine.url)
    try:
        import_definition(other, data, "form")
        publish_form(other, "membership")
    finally:
        other.dispose()


def test_a_version_published_by_another_process_is_used_at_once(published_db: Database) -> None:
    """A publish elsewhere counts for the very next submission and page (the write
    transaction reads the published version)."""
    db = published_db
    before = submit(db, "membership", VALID_ANSWERS, "de")  # version 1 loaded
    _publish_elsewhere(db, form(title={"de": "Neu", "en": "New"}))
    after = submit(db, "membership", VALID_ANSWERS, "de")
    assert get_submission(db, before.id).form_version == 1
    assert get_submission(db, after.id).form_version == 2
    record, loaded = published_form(db, "membership")
    assert (record.version, loaded.title["en"]) == (2, "New")


def test_answers_are_judged_by_the_version_published_now(published_db: Database) -> None:
    db = published_db
    submit(db, "membership", VALID_ANSWERS, "de")  # version 1 loaded
    stricter = form()
    stricter["steps"][0]["fields"][2]["required"] = True  # age, left out below
    _publish_elsewhere(db, stricter)
    without_age = {k: v for k, v in VALID_ANSWERS.items() if k != "age"}
    with pytest.raises(SubmissionInvalid) as refused:  # valid under version 1
        submit(db, "membership", without_age, "de")
    assert set(refused.value.errors) == {"age"}
    assert _count(db, "submissions") == 1

    looser = form()
    looser["steps"][0]["fields"][0]["required"] = False  # name
    _publish_elsewhere(db, looser)
    without_name = {k: v for k, v in VALID_ANSWERS.items() if k != "name"}
    created = submit(db, "membership", without_name, "de")  # invalid under version 2
    assert get_submission(db, created.id).form_version == 3


def test_unknown_submission_is_not_found(published_db: Database) -> None:
    with pytest.raises(NotFound):
        get_submission(published_db, "0" * 32)
    with pytest.raises(NotFound):
        history(published_db, "0" * 32)


def test_a_database_that_was_never_initialised_is_unavailable_with_advice(
    database_url: str,
) -> None:
    db = Database(database_url)
    with pytest.raises(StorageUnavailable, match="formflow init"):
        submit(db, "membership", VALID_ANSWERS)
    db.dispose()

