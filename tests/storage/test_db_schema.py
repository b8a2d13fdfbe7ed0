"""The schema comes from Alembic only, matches the models, and upgrades safely in parallel."""

from __future__ import annotations

import dataclasses
import multiprocessing
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, Connection, column, create_engine, insert, inspect, table, text
from sqlalchemy.exc import IntegrityError

from engine.exceptions import StorageUnavailable
from engine.records import InboxFilter, OutboxEntry, OutboxRecord
from engine.services import (
    Database,
    end_sessions,
    get_submission,
    get_user,
    history,
    notifications_for,
    submit,
)
from engine.services.inbox import assign_submission, inbox_page
from engine.storage.tables import Base, UTCDateTime
from support.storage import (
    VALID_ANSWERS,
    publish_test_definitions,
    upgrade_in_process,
)

TABLES = {
    "audit_log",
    "definitions", "definition_versions", "reference_counters", "submissions", "drafts",
    "events", "outbox", "users", "api_tokens", "alembic_version", "files", "file_chunks",
}


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_constructing_a_database_connects_to_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "x.db"
    db = Database(f"sqlite:///{missing}")  # would fail on first use, not here
    assert db.backend == "sqlite"
    assert not missing.parent.exists()
    with pytest.raises(StorageUnavailable):
        db.ping()


def test_upgrade_creates_the_schema_once_and_twice_is_a_no_op(database_url: str) -> None:
    db = Database(database_url)
    assert db.current_revision() is None
    db.upgrade()
    assert db.current_revision() == Database.head_revision() is not None
    assert TABLES <= _tables(database_url)
    with db.transaction() as store:
        store.definitions.add_version("form", "kept", "{}", "0" * 64)
    db.upgrade()  # idempotent: nothing recreated, nothing lost
    assert db.current_revision() == Database.head_revision()
    with db.read() as store:
        kept = store.definitions.latest("form", "kept")
    assert kept is not None and kept.version == 1
    db.dispose()


def test_migrations_match_the_models(db: Database, database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_concurrent_upgrades_from_several_processes(database_url: str) -> None:
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        revisions = pool.map(upgrade_in_process, [database_url] * 4)
    assert revisions == [Database.head_revision()] * 4
    assert TABLES <= _tables(database_url)
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    finally:
        engine.dispose()
    assert [r[0] for r in rows] == [Database.head_revision()]


def test_sqlite_connections_get_busy_timeout_wal_and_foreign_keys(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}", busy_timeout_ms=4321)
    db.upgrade()
    engine = db.engine
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 4321
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    assert (tmp_path / "p.db.migrate.lock").exists()
    db.dispose()


def test_sqlite_synchronous_normal_can_be_chosen(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'p.db'}", synchronous="normal")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    db.dispose()
    with pytest.raises(ValueError, match="synchronous"):
        Database(f"sqlite:///{tmp_path / 'p.db'}", synchronous="off")


def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(Exception, match="(?i)foreign key"), db.transaction() as store:
        store.events.add(submission_id="0" * 32, kind="comment", actor="x", comment="orphan")


@contextmanager
def _outbox_before_0009(url: str) -> Iterator[None]:
    """Today's code writes outbox rows with a ``delivery_id`` (0009), events with a
    ``note`` (0013) and submissions with ``consents`` and ``erased_at`` (0014), which older
    databases lack: the columns are there while the block writes rows, and gone again
    after it."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE outbox ADD COLUMN delivery_id VARCHAR(36)"))
            connection.execute(text("ALTER TABLE events ADD COLUMN note TEXT"))
            _add_0014_columns(connection)
        yield
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE outbox DROP COLUMN delivery_id"))
            connection.execute(text("ALTER TABLE events DROP COLUMN note"))
            _drop_0014_columns(connection)
    finally:
        engine.dispose()


def _add_0014_columns(connection: Connection) -> None:
    connection.execute(text("ALTER TABLE submissions ADD COLUMN consents TEXT DEFAULT '[]'"))
    connection.execute(text("ALTER TABLE submissions ADD COLUMN erased_at TIMESTAMP"))


def _drop_0014_columns(connection: Connection) -> None:
    connection.execute(text("ALTER TABLE submissions DROP COLUMN consents"))
    connection.execute(text("ALTER TABLE submissions DROP COLUMN erased_at"))


def _without_delivery_ids(rows: list[OutboxRecord]) -> list[OutboxRecord]:
    return [dataclasses.replace(row, delivery_id="") for row in rows]


def test_upgrades_keep_rows_of_tables_referencing_a_rebuilt_one(database_url: str) -> None:
    """SQLite rebuilds a table to change its constraints (0006: ``events``); the rows that
    reference it with ON DELETE CASCADE (the outbox) must come through untouched."""
    db = _published_at(database_url, "0005")
    with _outbox_before_0009(database_url):
        created = submit(db, "membership", VALID_ANSWERS, "de")
        before = notifications_for(db, created.id)
    assert before, "the test workflow notifies on submission"

    db.upgrade()
    assert db.current_revision() == Database.head_revision()
    assert _without_delivery_ids(notifications_for(db, created.id)) == \
        _without_delivery_ids(before)
    assert [e.kind for e in history(db, created.id)] == ["created"]
    db.dispose()


def _published_at(url: str, revision: str) -> Database:
    """A database at migration ``revision`` with the test form and workflow published: where
    each upgrade test makes its rows before upgrading."""
    db = Database(url)
    db.upgrade(revision)
    return publish_test_definitions(db)


def _index_names(url: str, table: str) -> set[str]:
    """The names of the table's indexes and unique constraints (a unique index is either,
    depending on the backend and on how the migration made it)."""
    engine = create_engine(url)
    try:
        found = inspect(engine)
        return {str(index["name"]) for index in found.get_indexes(table)} | {
            str(unique["name"]) for unique in found.get_unique_constraints(table)
        }
    finally:
        engine.dispose()


def test_upgrade_to_fewer_submission_indexes_keeps_rows_and_lookups(database_url: str) -> None:
    """0007 drops two prefix indexes and makes the assignee and draft indexes partial: the
    rows stay, and the assignee and state filters still find (only) what they should."""
    db = _published_at(database_url, "0006")
    with _outbox_before_0009(database_url):
        mine = submit(db, "membership", VALID_ANSWERS, "de")
        other = submit(db, "membership", VALID_ANSWERS, "de")
    # The users table of 0006 is not today's (0010 added a column), so the coordinator and
    # the assignment are written as 0006 knew them, with SQL.
    coordinator_id = _assigned_at_0006(db, mine.id, "coord@example.org")
    assert {"ix_submissions_state", "ix_submissions_assigned_to"} <= _index_names(
        database_url, "submissions"
    )

    db.upgrade()
    assert db.current_revision() == Database.head_revision()
    names = _index_names(database_url, "submissions")
    assert not names & {"ix_submissions_state", "ix_submissions_assigned_to"}
    assert "ix_submissions_assigned_to_created_at_id" in names
    assert "ix_outbox_draft_id" in _index_names(database_url, "outbox")

    def ids(where: InboxFilter) -> set[str]:
        return {s.id for s in inbox_page(db, where).submissions}

    assert ids(InboxFilter(assigned_to=coordinator_id)) == {mine.id}
    assert ids(InboxFilter(state="submitted")) == {mine.id, other.id}
    assert inbox_page(db, InboxFilter()).counts["submitted"] == 2
    assert [e.kind for e in history(db, mine.id)] == ["created"]
    assert notifications_for(db, other.id)

    later = submit(db, "membership", VALID_ANSWERS, "de")  # new rows: unassigned, no draft
    assert ids(InboxFilter(assigned_to=coordinator_id)) == {mine.id}
    assign_submission(db, later.id, coordinator_id, actor="coord@example.org")
    assert ids(InboxFilter(assigned_to=coordinator_id)) == {mine.id, later.id}
    assert [e.kind for e in history(db, later.id)] == ["created", "assignment"]
    db.dispose()


def _assigned_at_0006(db: Database, submission_id: str, email: str) -> int:
    """A coordinator made and given the submission in a database at revision 0006."""
    users = table("users", column("email"), column("roles", JSON), column("active"),
                  column("created_at", UTCDateTime()))
    with db.engine.begin() as connection:
        connection.execute(insert(users).values(
            email=email, roles=["coordinator"], active=True, created_at=db.now()
        ))
        user_id = connection.execute(
            text("SELECT id FROM users WHERE email = :email"), {"email": email}
        ).scalar_one()
        connection.execute(
            text("UPDATE submissions SET assigned_to = :user WHERE id = :id"),
            {"user": user_id, "id": submission_id},
        )
    return int(user_id)


def test_upgrade_to_delivery_keys_per_submission_keeps_rows_and_uniqueness(
    database_url: str,
) -> None:
    """0008 replaces the outbox's unique delivery key and its submission index by one unique
    ``(submission_id, delivery_key)`` index (a draft's keys: a partial unique index): the
    rows stay, a submission's rows and a draft's key are still found, a repeated key of the
    same submission or of a draft is still refused."""
    db = _published_at(database_url, "0007")
    with _outbox_before_0009(database_url):
        created = submit(db, "membership", VALID_ANSWERS, "de")
        before = _without_delivery_ids(notifications_for(db, created.id))
    assert before, "the test workflow notifies on submission"
    assert {"uq_outbox_delivery_key", "ix_outbox_submission_id"} <= _index_names(
        database_url, "outbox"
    )

    db.upgrade()
    assert db.current_revision() == Database.head_revision()
    names = _index_names(database_url, "outbox")
    assert "ix_outbox_submission_id" not in names
    assert "uq_outbox_delivery_key" not in names
    assert {"ix_outbox_submission_id_delivery_key", "ix_outbox_delivery_key",
            "ix_outbox_draft_id"} <= names
    assert _without_delivery_ids(notifications_for(db, created.id)) == before

    later = submit(db, "membership", VALID_ANSWERS, "de")
    assert notifications_for(db, later.id)
    created_row = get_submission(db, created.id)
    with db.transaction() as store:
        store.drafts.add(
            draft_id="d" * 32, token_hash="e" * 64, form_id="membership",
            form_version_row=created_row.form_version_row, answers={}, step=None,
            language="de", expires_at=store.now + timedelta(days=1),
        )
    draft_entry = OutboxEntry(
        submission_id=None, event_id=None, draft_id="d" * 32, channel="mail",
        recipient="ada@example.org", role="applicant", language="de", delivery_key="f" * 64,
    )
    with db.transaction() as store:
        store.outbox.add_many([draft_entry])
    with db.read() as store:
        assert store.outbox.has_delivery_key("f" * 64)
        assert not store.outbox.has_delivery_key(before[0].delivery_key)  # drafts' keys only
    with pytest.raises(IntegrityError), db.transaction() as store:
        store.outbox.add_many([draft_entry])
    again = OutboxEntry(
        submission_id=created.id, event_id=before[0].event_id, channel="mail",
        recipient="ada@example.org", role="applicant", language="de",
        delivery_key=before[0].delivery_key,
    )
    with pytest.raises(IntegrityError), db.transaction() as store:
        store.outbox.add_many([again])
    assert _without_delivery_ids(notifications_for(db, created.id)) == before
    db.dispose()


def test_upgrade_gives_every_outbox_row_its_own_delivery_id(database_url: str) -> None:
    """0009: rows written before it get fresh, distinct UUIDs; the column is unique and not
    null, and rows written after it get one at insert."""
    db = _published_at(database_url, "0008")
    with _outbox_before_0009(database_url):
        created = [submit(db, "membership", VALID_ANSWERS, "de") for _ in range(3)]
    db.upgrade()
    assert db.current_revision() == Database.head_revision()
    old = [row for s in created for row in notifications_for(db, s.id)]
    later = submit(db, "membership", VALID_ANSWERS, "de")
    new = notifications_for(db, later.id)
    ids = [row.delivery_id for row in old + new]
    assert len(old) >= 3 and len(set(ids)) == len(ids)
    assert all(str(uuid.UUID(i)) == i for i in ids)
    assert "uq_outbox_delivery_id" in _index_names(database_url, "outbox")
    engine = create_engine(database_url)
    try:
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE outbox SET delivery_id = :taken WHERE id = :other"),
                               {"taken": ids[0], "other": new[0].id})
        with pytest.raises(IntegrityError), engine.begin() as connection:
            connection.execute(text("UPDATE outbox SET delivery_id = NULL"))
    finally:
        engine.dispose()
    db.dispose()


def test_upgrade_to_session_generations_keeps_users(database_url: str) -> None:
    """0010 gives every user a session generation, 0 for the users already there."""
    db = Database(database_url)
    db.upgrade("0009_outbox_delivery_uuid")
    users = table("users", column("email"), column("roles", JSON), column("active"),
                  column("created_at", UTCDateTime()))
    with db.engine.begin() as connection:
        connection.execute(insert(users).values(
            email="kept@example.org", roles=["admin"], active=True, created_at=db.now()
        ))

    db.upgrade()
    assert db.current_revision() == Database.head_revision()
    kept = get_user(db, "kept@example.org")
    assert (kept.roles, kept.active, kept.session_generation) == (("admin",), True, 0)
    end_sessions(db, kept.id)
    assert get_user(db, "kept@example.org").session_generation == 1
    db.dispose()


@contextmanager
def _events_before_0013(url: str) -> Iterator[None]:
    """Today's code writes events with a ``note``, which databases before 0013 lack (and
    submissions with the columns of 0014)."""
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE events ADD COLUMN note TEXT"))
            _add_0014_columns(connection)
        yield
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE events DROP COLUMN note"))
            _drop_0014_columns(connection)
    finally:
        engine.dispose()


def test_upgrade_moves_plain_comments_into_notes(database_url: str) -> None:
    """0013: a plain comment (always internal) keeps its text as the event's ``note``, so
    that ``comment`` is only ever the message to the applicant; other events keep theirs."""
    db = _published_at(database_url, "0012_workflow_moves")
    with _events_before_0013(database_url):
        created = submit(db, "membership", VALID_ANSWERS, "de")
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO events (submission_id, kind, actor, comment, at) "
                     "VALUES (:id, 'comment', 'coord@example.org', 'Rückruf morgen', "
                     "CURRENT_TIMESTAMP)"),
                {"id": created.id},
            )
    finally:
        engine.dispose()

    db.upgrade()
    assert db.current_revision() == Database.head_revision()
    events = history(db, created.id)
    assert [(e.kind, e.comment, e.note) for e in events] == [
        ("created", None, None), ("comment", None, "Rückruf morgen")]
    db.dispose()
