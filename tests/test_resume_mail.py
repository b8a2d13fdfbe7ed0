"""The resume-link mail states the link's last day in the app's time zone (issue 18)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from engine.resume_mail import resume_link_message

LATE_EVENING = datetime(2027, 1, 5, 23, 30, tzinfo=UTC)
"""Already 6 January in Berlin."""


@pytest.mark.parametrize(("language", "expected"), [
    ("de", "Der Link gilt bis zum 6. Januar 2027."),
    ("en", "The link works until January 6, 2027."),
])
def test_the_expiry_day_is_the_day_in_the_given_zone(language: str, expected: str) -> None:
    message = resume_link_message(form_title="Anmeldung", resume_url="https://x.example/r/t",
                                  expires_at=LATE_EVENING, language=language,
                                  zone=ZoneInfo("Europe/Berlin"))
    assert expected in message.text
    assert expected in message.html


def test_the_same_moment_is_an_earlier_day_further_west() -> None:
    message = resume_link_message(form_title="Anmeldung", resume_url="https://x.example/r/t",
                                  expires_at=LATE_EVENING, language="de",
                                  zone=ZoneInfo("America/New_York"))
    assert "Der Link gilt bis zum 5. Januar 2027." in message.text
