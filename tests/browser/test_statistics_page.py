"""The statistics page and the print view in Chromium: reached from the inbox and from a
submission, charts drawn without any script, a table beside each chart, and axe-core finds
nothing on either page."""

from __future__ import annotations

from typing import Any

import pytest

from engine.services import fire_transition
from support.browser import LiveServer, Shots, Watch
from support.browser_staff import COORDINATOR, add_staff, sign_in, submit_membership
from support.browser_steps import expect

try:
    from axe_playwright_python.sync_playwright import Axe
except ImportError:  # the chromium fixture skips (or fails in CI) before this matters
    Axe = None


@pytest.fixture(scope="module", autouse=True)
def staff(live_server: LiveServer) -> None:
    add_staff(live_server)


def _violations(page: Any) -> list[str]:
    assert Axe is not None, "axe-playwright-python is part of the test extra"
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at "
        f"{[' '.join(map(str, n.get('target', []))) for n in v['nodes']]}"
        for v in Axe().run(page).response["violations"]
    ]


def test_statistics_and_print_view_from_the_inbox(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    first = submit_membership(live_server, name="Statistik Eins")
    submit_membership(live_server, name="Statistik Zwei")
    fire_transition(live_server.db, first.id, "reject", actor=COORDINATOR,
                    roles=["coordinator"], comment="Nicht vollständig.")

    sign_in(page, COORDINATOR)
    page.wait_for_url("**/inbox**")
    page.click("#statistics-link")
    page.wait_for_url("**/inbox/statistics**")
    page.select_option("#stats-form", "membership")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**/inbox/statistics?form=membership")
    expect(page.locator("svg.chart")).to_have_count(2)
    expect(page.locator("#weeks-table caption")).to_have_text("Einreichungen pro Woche")
    expect(page.locator("#states-table th[scope=row]", has_text="Abgelehnt")).to_have_count(1)
    expect(page.locator("#median")).to_contain_text("Abgelehnt")
    assert page.locator("script").count() == 0
    box = page.locator("svg.chart").first.bounding_box()
    assert box is not None and box["width"] > 100
    shots(page, "statistics")
    assert _violations(page) == []
    page.set_viewport_size({"width": 375, "height": 700})
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
    chart = page.locator("svg.chart").first.bounding_box()
    assert chart is not None and chart["width"] <= 375
    shots(page, "statistics at 375 px")
    page.set_viewport_size({"width": 1280, "height": 800})

    page.goto(f"/inbox/{first.id}")
    page.click("#print-link")
    page.wait_for_url(f"**/inbox/{first.id}/print")
    expect(page.locator("h1")).to_have_text(first.reference)
    expect(page.locator("table.history")).to_contain_text("Nicht vollständig.")
    expect(page.locator("#pdf-link")).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("nav.no-print")).to_be_hidden()
    page.emulate_media(media="screen")
    shots(page, "print view")
    assert _violations(page) == []
    watch.assert_clean()
