"""Fixtures for the coordinator tests: the app of ``tests/conftest.py`` on a database with a
published workflow and form (through the services) and four staff users; ``staff`` signs them
in through the real login form — CSRF token and all — so nothing of ours is mocked."""

from __future__ import annotations

import pytest
from flask import Flask

from engine.services import Database
from support.coordinator import (
    ADMIN,
    COORDINATOR,
    FORM,
    OTHER_COORDINATOR,
    PASSWORD,
    TREASURER,
    WORKFLOW,
    Staff,
)
from support.databases import DatabaseTemplates
from support.signin import prepare_staff_database


def _prepare(db: Database) -> None:
    users = [(COORDINATOR, ["coordinator"]), (OTHER_COORDINATOR, ["coordinator"]),
             (ADMIN, ["admin"]), (TREASURER, ["treasurer"])]
    prepare_staff_database(db, workflow=WORKFLOW, form=FORM, password=PASSWORD, users=users)


@pytest.fixture
def database_url(database_url: str, database_templates: DatabaseTemplates) -> str:
    database_templates.fill(database_url, "coordinator", _prepare)
    return database_url


@pytest.fixture
def staff(app: Flask) -> Staff:
    return Staff(app)
