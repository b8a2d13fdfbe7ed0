"""What the browser tests do again and again: the membership answers, filling a step the way a
person does (clicks and typing), and small probes of the page."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from engine.services import save_draft

try:
    from playwright.sync_api import expect
except ImportError:  # the `chromium` fixture skips (or fails in CI) with a clear reason
    expect = None

__all__ = [
    "ADDRESS",
    "FORM",
    "PERSON",
    "expect",
    "fill_address",
    "fill_participation",
    "fill_person",
    "focused_id",
    "open_step",
    "step_id",
    "submit_review",
    "tour",
]

FORM = "/f/membership"
PERSON = {"name": "Erika Mustermann", "institution": "Stadt Musterstadt",
          "function": "Referentin für Bürgerbeteiligung"}
ADDRESS = {"street": "Unter den Linden 1", "postcode": "10117", "town": "Berlin",
           "phone": "030 123456", "email": "erika@example.org"}
ACTIVITIES = "Bürgerräte in der Kommune, Moderation von Beteiligungsverfahren."


def step_id(page: Any) -> str | None:
    """The id of the step the page shows, or None when it is not a step page."""
    section = page.locator("#step-form section[data-step]")
    return section.get_attribute("data-step") if section.count() else None


def open_step(page: Any, step: str) -> None:
    """Waits until the page shows ``step`` (after a click that navigates)."""
    page.wait_for_url(f"**{FORM}/step/{step}**")
    assert step_id(page) == step


def fill_person(page: Any, answers: dict[str, str] = PERSON) -> None:
    page.check("#field-request")
    for name, value in answers.items():
        page.fill(f"#field-{name}", value)


def fill_address(page: Any, answers: dict[str, str] = ADDRESS) -> None:
    for name, value in answers.items():
        page.fill(f"#field-{name}", value)


def fill_participation(page: Any, topic: str = "transparenz", consent: bool = True) -> None:
    page.fill("#field-activities", ACTIVITIES)
    page.select_option("#field-topic", topic)
    if consent:
        page.check("#field-topic_consent")


def submit_review(page: Any) -> None:
    page.wait_for_url(f"**{FORM}/review")
    page.click("#submit")
    page.wait_for_url(f"**{FORM}/confirmation")


def focused_id(page: Any) -> str:
    return str(page.evaluate("() => document.activeElement ? document.activeElement.id : ''"))


Visit = Callable[[str, Any], None]


def tour(page: Any, live_server: Any, visit: Visit, watch: Any = None) -> None:
    """Walks through every kind of page of the applicant's flow, calling ``visit(name, page)``
    on each: start page, each step (the last one with the consent shown), a step with errors,
    "saved", review, confirmation, status, and the resume pages for an expired and an unknown
    link. ``watch`` (a ``support.browser.Watch``) is told which pages answer with an error
    status."""
    if watch is not None:
        watch.expect_status(f"{FORM}/step/person", 422)
    page.goto("/")
    visit("start", page)
    page.click("#start-membership")
    open_step(page, "person")
    visit("step person", page)
    page.click("#next")
    page.wait_for_selector("#error-summary")
    visit("step person with errors", page)
    fill_person(page)
    page.click("#next")
    open_step(page, "address")
    visit("step address", page)
    fill_address(page)
    page.click("#next")
    open_step(page, "participation")
    fill_participation(page)
    visit("step participation", page)
    page.click("#save")
    page.wait_for_url(f"**{FORM}/saved")
    visit("saved", page)
    page.goto(str(page.get_attribute("#resume-link", "href")))
    open_step(page, "participation")
    page.click("#next")
    page.wait_for_url(f"**{FORM}/review")
    visit("review", page)
    submit_review(page)
    visit("confirmation", page)
    page.click("#status-link")
    page.wait_for_url("**/status/**")
    visit("status", page)

    expired = save_draft(live_server.db, "membership", {"name": "Alt"}, step="person",
                         language="de", ttl=timedelta(0)).token
    unknown = secrets.token_urlsafe(32)
    if watch is not None:
        watch.expect_status(f"/resume/{expired}", 410)
        watch.expect_status(f"/resume/{unknown}", 404)
    page.goto(f"/resume/{expired}")
    assert page.locator("#expired-title").count() == 1
    visit("resume link expired", page)
    page.goto(f"/resume/{unknown}")
    assert page.locator("#error-title").get_attribute("data-status") == "404"
    visit("resume link unknown", page)
