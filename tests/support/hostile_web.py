"""What the hostile-input tests of the web share: staff with passwords and tokens, row counts,
and the staff pages that must keep answering 200 after an attack."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import text

from engine.services import create_api_token, create_user, set_password
from engine.storage import Database
from support.api import STAFF, Api, publish_everything

__all__ = ["PASSWORD", "TABLES", "assert_staff_pages_answer", "counts", "prepare"]

PASSWORD = "a long enough password 14"
TABLES = ("submissions", "events", "drafts", "outbox")
"""The tables an applicant's request may add rows to."""


def prepare(db: Database) -> dict[str, str]:
    """Every shipped definition published, the staff of ``support.api.STAFF`` with
    :data:`PASSWORD` and an API token each; the tokens by role."""
    publish_everything(db)
    tokens = {}
    for role, (email, roles) in STAFF.items():
        create_user(db, email, roles)
        set_password(db, email, PASSWORD)
        tokens[role], _ = create_api_token(db, email)
    return tokens


def counts(sql: Any) -> dict[str, int]:
    """Rows per table of :data:`TABLES`, read through ``sql`` (an SQLAlchemy engine)."""
    with sql.connect() as connection:
        return {t: connection.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in TABLES}


def assert_staff_pages_answer(api: Api, staff: FlaskClient, submission_id: str) -> None:
    """The inbox, the submission's page, both exports and the API's submission answer 200."""
    for path in ("/inbox", f"/inbox/{submission_id}", "/inbox/export.csv", "/inbox/export.json"):
        response = staff.get(path)
        assert response.status_code == 200, path
        response.get_data()  # the exports stream: read them to the end
    response = api.get(f"/api/submissions/{submission_id}", token=api.tokens["coordinator"])
    assert response.status_code == 200
