"""Baseline for ``bench/api_submit.py``: the membership form's JSON endpoint as a competent Flask
developer would write it by hand, doing the same durable work per submission as formflow.

``POST /submit`` validates the answers with a WTForms form written out for the membership
fields (same limits, same rule: the consent is required once a topic is chosen), then in ONE
SQLAlchemy transaction takes the next reference number from a per-year counter, inserts the
submission (with the hash of the applicant's token), its ``created`` audit event and an outbox
row for the confirmation mail, and commits. The database is set up the way formflow sets up
its own: SQLite in WAL mode with ``synchronous=FULL``, ``busy_timeout``, foreign keys and
``BEGIN IMMEDIATE`` (SQLAlchemy's documented pysqlite recipe); or PostgreSQL.

``POST /minimal`` is the floor: the same validation and one INSERT, nothing else.

It has no definitions, no workflow engine, no rules engine, no translations: what formflow
costs beyond this is what its generality costs. Run under gunicorn, after ``prepare(url)``:

    BASELINE_DATABASE_URL=sqlite:////tmp/base.sqlite3 gunicorn -w 2 --pythonpath bench \
        'baseline_submit:create_app()'
"""

from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, jsonify, request
from sqlalchemy import JSON, Engine, ForeignKey, String, create_engine, event, update
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, Form, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError

TOPICS = ["integrierte_partizipation", "transparenz", "qualitaet", "kompetenz", "beteiligung"]
EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
TEL = r"^\+?[0-9 ()/.-]{3,}$"


class MembershipForm(Form):
    request = BooleanField(validators=[InputRequired()])
    name = StringField(validators=[InputRequired(), Length(max=120)])
    institution = StringField(validators=[Optional(), Length(max=200)])
    function = StringField(validators=[Optional(), Length(max=120)])
    street = StringField(validators=[Optional(), Length(max=120)])
    postcode = StringField(validators=[Optional(), Regexp(r"^[0-9]{5}$")])
    town = StringField(validators=[Optional(), Length(max=80)])
    phone = StringField(validators=[Optional(), Length(max=40), Regexp(TEL)])
    email = StringField(validators=[InputRequired(), Length(max=254), Regexp(EMAIL)])
    activities = TextAreaField(validators=[Optional(), Length(max=1000)])
    topic = SelectField(choices=[("", "")] + [(t, t) for t in TOPICS], validate_choice=True)
    topic_consent = BooleanField()

    def validate_topic_consent(self, field: BooleanField) -> None:
        if self.topic.data and not field.data:
            raise ValidationError("required when a topic is chosen")


class Base(DeclarativeBase):
    pass


class Counter(Base):
    __tablename__ = "reference_counters"
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int]


class Submission(Base):
    __tablename__ = "submissions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    state: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime]


class Event(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime]


class Outbox(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    template: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime]


class Minimal(Base):
    __tablename__ = "minimal_submissions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)


def make_engine(url: str) -> Engine:
    """The engine, with formflow's SQLite settings when ``url`` is SQLite."""
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself, below
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA busy_timeout = 10000")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.close()

        @event.listens_for(engine, "begin")
        def begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def prepare(url: str) -> None:
    """Tables, this year's counter row and (SQLite) WAL mode, once, before the workers start."""
    engine = make_engine(url)
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA journal_mode = WAL")
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        session.merge(Counter(year=datetime.now(UTC).year, last_number=0))
    engine.dispose()


def _formdata(answers: dict[str, Any]) -> MultiDict[str, str]:
    """JSON answers as the form data WTForms reads (a ticked box is present, else absent)."""
    items = []
    for key, value in answers.items():
        if value is True:
            items.append((key, "y"))
        elif isinstance(value, str | int | float) and value is not False:
            items.append((key, str(value).strip()))
    return MultiDict(items)


def create_app() -> Flask:
    engine = make_engine(os.environ["BASELINE_DATABASE_URL"])
    app = Flask(__name__)

    def validated() -> MembershipForm | Any:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("answers"), dict):
            return jsonify(error="invalid_json"), 400
        form = MembershipForm(formdata=_formdata(body["answers"]))
        if not form.validate():
            return jsonify(error="invalid", errors=form.errors), 422
        return form

    @app.get("/health")
    def health() -> Any:
        return jsonify(status="ok")

    @app.post("/submit")
    def submit() -> Any:
        form = validated()
        if not isinstance(form, MembershipForm):
            return form
        token = secrets.token_urlsafe(32)
        submission_id = uuid.uuid4().hex
        now = datetime.now(UTC)
        with Session(engine) as session, session.begin():
            number = session.execute(
                update(Counter).where(Counter.year == now.year)
                .values(last_number=Counter.last_number + 1).returning(Counter.last_number)
            ).scalar_one()
            reference = f"M-{now.year}-{number:05d}"
            session.add(Submission(
                id=submission_id, reference=reference, state="submitted",
                token_hash=hashlib.sha256(token.encode()).hexdigest(), answers=form.data,
                created_at=now))
            session.flush()  # the submission row first: the event and the mail refer to it
            session.add_all([
                Event(submission_id=submission_id, kind="created", to_state="submitted",
                      actor="applicant", created_at=now),
                Outbox(submission_id=submission_id, recipient=form.email.data,
                       template="received", status="pending", created_at=now),
            ])
        return jsonify(id=submission_id, reference=reference, state="submitted", token=token,
                       status_url=f"{request.host_url}status/{token}"), 201

    @app.post("/minimal")
    def minimal() -> Any:
        form = validated()
        if not isinstance(form, MembershipForm):
            return form
        submission_id = uuid.uuid4().hex
        with Session(engine) as session, session.begin():
            session.add(Minimal(id=submission_id, answers=form.data))
        return jsonify(id=submission_id), 201

    return app
