"""Fixtures for the JSON API tests (helpers and definitions live in ``support.api``).

Every test gets the app of ``tests/conftest.py`` over a fresh SQLite file, or — in modules
marked ``BOTH_BACKENDS`` — also over a fresh PostgreSQL schema, with the API tests' settings.
The definitions are imported and users and API tokens created through the services, on
SQLite once per session into a template that each test copies.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from engine.services import create_api_token, create_user
from engine.storage import Database
from support.api import API_SETTINGS, STAFF, Api, publish_everything
from support.databases import DatabaseTemplates
from web.db import get_db


@pytest.fixture
def api_config() -> dict[str, Any]:
    """Extra app config for one test (parametrize it, or update it in the test)."""
    return {}


@pytest.fixture
def app_config(app_config: dict[str, Any], api_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **API_SETTINGS, **api_config}


def _prepare(db: Database) -> dict[str, str]:
    publish_everything(db)
    tokens = {}
    for role, (email, roles) in STAFF.items():
        create_user(db, email, roles)
        tokens[role], _ = create_api_token(db, email)
    return tokens


@pytest.fixture
def api_tokens(database_url: str, database_templates: DatabaseTemplates) -> dict[str, str]:
    """The staff's API tokens by role, on the test's database with the definitions and users
    (``create_app`` connects to nothing, so the app may be made before or after this)."""
    tokens: dict[str, str] = database_templates.fill(database_url, "api", _prepare)
    return tokens


@pytest.fixture
def api(api_tokens: dict[str, str], app: Flask) -> Api:
    return Api(app, app.test_client(), get_db(app), dict(api_tokens))
