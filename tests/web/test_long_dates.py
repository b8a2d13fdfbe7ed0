"""Dates on the pages (a draft's expiry, a date answer) read as long dates in the page's
language, on their day in the app's time zone (Europe/Berlin)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import Flask

from web.i18n import long_date


@pytest.mark.parametrize(
    ("language", "winter", "summer"),
    [("de", "15. Januar 2030", "15. Juli 2030"), ("en", "January 15, 2030", "July 15, 2030")],
)
def test_long_dates_in_the_page_language_and_the_apps_time_zone(
    app: Flask, language: str, winter: str, summer: str
) -> None:
    with app.test_request_context(f"/?lang={language}"):
        assert long_date(date(2030, 1, 15)) == winter
        # 00:30 in Berlin is still the day before in UTC (UTC+1 in winter, UTC+2 in summer)
        assert long_date(datetime(2030, 1, 14, 23, 30, tzinfo=UTC)) == winter
        assert long_date(datetime(2030, 1, 14, 23, 30)) == winter, "naive means UTC"
        assert long_date(datetime(2030, 7, 14, 22, 30, tzinfo=UTC)) == summer
        assert long_date(datetime(2030, 7, 14, 21, 30, tzinfo=UTC)) != summer
