"""Fixtures of the hostile-input tests that drive the app: the API settings, the app filled from
the "hostile-edge" database template (definitions, staff and API tokens), signed-in staff, and
a plain SQLAlchemy engine on the same database to count and plant rows behind the app's back.

A module that needs other prepared data overrides ``api`` (``test_hostile_steps`` adds its own
form).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine

from support.api import API_SETTINGS, STAFF, Api
from support.databases import DatabaseTemplates
from support.hostile_web import PASSWORD, prepare
from support.signin import signed_in
from web.db import get_db


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **API_SETTINGS}


@pytest.fixture
def api(database_url: str, database_templates: DatabaseTemplates, app: Flask) -> Api:
    tokens: dict[str, str] = database_templates.fill(database_url, "hostile-edge", prepare)
    return Api(app, app.test_client(), get_db(app), tokens)


@pytest.fixture
def sql(database_url: str) -> Iterator[Any]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def staff(api: Api) -> FlaskClient:
    return signed_in(api.app, STAFF["coordinator"][0], PASSWORD)


@pytest.fixture
def admin(api: Api) -> FlaskClient:
    return signed_in(api.app, STAFF["admin"][0], PASSWORD)
