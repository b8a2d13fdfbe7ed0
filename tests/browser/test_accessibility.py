"""Accessibility and small screens over every page of the applicant's flow.

- axe-core (through ``axe-playwright-python``) on each page: no violation with impact serious
  or critical; the others are printed as information (``pytest -s`` shows them).
- At 320 px wide, no page scrolls sideways (``scrollWidth <= 320``): the layout promise of
  docs/applicants.md.
"""

from __future__ import annotations

from typing import Any

from support.browser import LiveServer, Shots, Watch, new_context
from support.browser_steps import tour

try:
    from axe_playwright_python.sync_playwright import Axe
except ImportError:  # the chromium fixture skips (or fails in CI) before this matters
    Axe = None

BLOCKING = {"serious", "critical"}
NARROW = 320


def _describe(violation: dict[str, Any]) -> str:
    targets = [" ".join(map(str, node.get("target", []))) for node in violation["nodes"]]
    return f"{violation['impact']}: {violation['id']} ({violation['help']}) at {targets}"


def test_axe_finds_nothing_serious_on_any_page(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    assert Axe is not None, "axe-playwright-python is part of the test extra"
    axe = Axe()
    blocking: list[str] = []
    checked: list[str] = []

    def visit(name: str, current: Any) -> None:
        shots(current, name)
        results = axe.run(current)
        violations = results.response["violations"]
        for violation in violations:
            line = f"{name}: {_describe(violation)}"
            if violation["impact"] in BLOCKING:
                blocking.append(line)
            else:
                print(f"axe (info) {line}")
        checked.append(name)

    tour(page, live_server, visit, watch)
    assert len(checked) == 11
    assert blocking == []


def test_no_horizontal_scrolling_at_320_pixels(
    chromium: Any, live_server: LiveServer, shots: Shots
) -> None:
    context = new_context(chromium, live_server, viewport={"width": NARROW, "height": 640})
    too_wide: dict[str, int] = {}
    steps: list[str] = []

    def visit(name: str, current: Any) -> None:
        shots(current, name)
        width = int(current.evaluate("() => document.documentElement.scrollWidth"))
        assert int(current.evaluate("() => window.innerWidth")) == NARROW
        if width > NARROW:
            too_wide[name] = width
        if name.startswith("step"):
            steps.append(name)

    try:
        tour(context.new_page(), live_server, visit)
    finally:
        context.close()
    assert len(steps) == 4
    assert too_wide == {}
