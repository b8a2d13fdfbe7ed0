"""Fixtures for the administration tests: the app of ``tests/conftest.py`` on a database with
a published workflow and form (through the services), an administrator and a coordinator, and
a signed-in "browser" for each."""

from __future__ import annotations

import pytest
from flask import Flask

from engine.services import Database
from support.admin import ADMIN, COORDINATOR, FORM, PASSWORD, WORKFLOW, Browser
from support.databases import DatabaseTemplates
from support.signin import prepare_staff_database


def _prepare(db: Database) -> None:
    prepare_staff_database(db, workflow=WORKFLOW, form=FORM, password=PASSWORD,
                           users=[(ADMIN, ["admin"]), (COORDINATOR, ["coordinator"])])


@pytest.fixture
def database_url(database_url: str, database_templates: DatabaseTemplates) -> str:
    database_templates.fill(database_url, "admin", _prepare)
    return database_url


@pytest.fixture
def admin(app: Flask) -> Browser:
    return Browser(app, ADMIN)


@pytest.fixture
def coordinator(app: Flask) -> Browser:
    return Browser(app, COORDINATOR)


@pytest.fixture
def anonymous(app: Flask) -> Browser:
    return Browser(app)
