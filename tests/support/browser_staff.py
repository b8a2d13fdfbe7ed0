"""Staff users and submissions for the browser tests of the administration and the inbox.

The users are made through the same service as ``formflow users create`` and sign in through
the real login page; submissions that a test only needs to exist are stored through the
``submit`` service (the applicant's pages are covered by ``test_membership_flow.py``).
"""

from __future__ import annotations

from typing import Any

from engine.services import create_user, submit
from engine.services.submissions import SubmissionCreated
from support.browser import LiveServer

__all__ = [
    "ADMIN",
    "COORDINATOR",
    "OTHER_COORDINATOR",
    "PASSWORD",
    "add_staff",
    "membership_answers",
    "sign_in",
    "submit_membership",
]

PASSWORD = "correct horse battery staple"
ADMIN = "admin@example.org"
COORDINATOR = "coord@example.org"
OTHER_COORDINATOR = "other@example.org"


def add_staff(live_server: LiveServer) -> None:
    """One administrator and two coordinators, each with ``PASSWORD``."""
    create_user(live_server.db, ADMIN, ["admin"], PASSWORD)
    create_user(live_server.db, COORDINATOR, ["coordinator"], PASSWORD)
    create_user(live_server.db, OTHER_COORDINATOR, ["coordinator"], PASSWORD)


def sign_in(page: Any, email: str, password: str = PASSWORD, next_path: str = "") -> None:
    """Signs in through the login form the way a person does, and waits for the landing."""
    page.goto("/login" + (f"?next={next_path}" if next_path else ""))
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("form[action$='/login'] button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)


def membership_answers(**changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "request": "true", "name": "Erika Mustermann", "institution": "Stadt Musterstadt",
        "email": "erika@example.org", "activities": "Bürgerräte in der Kommune.",
        "topic": "transparenz", "topic_consent": "true",
    }
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def submit_membership(live_server: LiveServer, **changes: Any) -> SubmissionCreated:
    return submit(live_server.db, "membership", membership_answers(**changes), "de")
