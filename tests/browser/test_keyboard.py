"""The whole membership application with the keyboard alone: Tab, Shift+Tab, Space, Enter and
the arrow keys — no clicks — from the start page to the status page.

Along the way: the focus order follows the page (the fields of a step in their order, then
*Weiter*), every focused element shows a visible focus indicator, and the live rules react to
keyboard input (choosing a topic with the arrow keys shows the consent box).
"""

from __future__ import annotations

from typing import Any

from engine.services import submission_for_token
from support.browser import LiveServer, Shots, Watch
from support.browser_steps import ADDRESS, FORM, PERSON, expect, focused_id, open_step

TAB_LIMIT = 40

DESCRIBE_FOCUS = """() => {
  const e = document.activeElement;
  if (!e) return '';
  if (e.id) return e.id;
  if (e.dataset && e.dataset.change) return 'change:' + e.dataset.change;
  return e.tagName.toLowerCase();
}"""

FOCUS_RING = """() => {
  const style = getComputedStyle(document.activeElement);
  return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0
      || style.boxShadow !== 'none';
}"""


def tab_to(page: Any, target: str, *, backwards: bool = False) -> list[str]:
    """Presses Tab (or Shift+Tab) until the element with id ``target`` has focus; returns the
    ids focused on the way (ending with ``target``). Fails when Tab never gets there."""
    key = "Shift+Tab" if backwards else "Tab"
    visited = []
    for _ in range(TAB_LIMIT):
        page.keyboard.press(key)
        current = str(page.evaluate(DESCRIBE_FOCUS))
        visited.append(current)
        if current == target:
            assert page.evaluate(FOCUS_RING), f"#{target} has no visible focus indicator"
            return visited
    raise AssertionError(f"{key} never reached #{target}; focus went through {visited}")


def fields_in(visited: list[str]) -> list[str]:
    return [v for v in visited if v.startswith("field-")]


def type_into(page: Any, target: str, text: str) -> None:
    assert focused_id(page) == target
    page.keyboard.type(text)


def test_keyboard_only_from_start_to_status(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    page.goto("/")
    tab_to(page, "start-membership")
    shots(page, "start link focused")
    page.keyboard.press("Enter")

    open_step(page, "person")
    visited = tab_to(page, "field-request")
    assert visited[0] == "a", "the skip link comes first"  # it has no id, only href="#main"
    page.keyboard.press("Space")
    expect(page.locator("#field-request")).to_be_checked()
    assert tab_to(page, "field-name") == ["field-name"]
    type_into(page, "field-name", PERSON["name"])
    assert tab_to(page, "field-institution") == ["field-institution"]
    type_into(page, "field-institution", "Stadt Musterstat")  # a typo …
    assert tab_to(page, "field-function") == ["field-function"]
    type_into(page, "field-function", PERSON["function"])
    assert tab_to(page, "field-institution", backwards=True) == ["field-institution"]
    # … corrected after going back with Shift+Tab (which selects the text: → to its end)
    page.keyboard.press("ArrowRight")
    page.keyboard.press("Backspace")
    page.keyboard.type("dt")
    expect(page.locator("#field-institution")).to_have_value(PERSON["institution"])
    shots(page, "person filled by keyboard")
    assert tab_to(page, "next") == ["field-function", "next"]
    page.keyboard.press("Enter")

    open_step(page, "address")
    visited = tab_to(page, "field-street")
    page.keyboard.type(ADDRESS["street"])
    order = ["street", "postcode", "town", "phone", "email"]
    for previous, name in zip(order, order[1:], strict=False):
        assert tab_to(page, f"field-{name}") == [f"field-{name}"], f"after {previous}"
        page.keyboard.type(ADDRESS[name])
    shots(page, "address filled by keyboard")
    assert tab_to(page, "next") == ["next"]
    page.keyboard.press("Enter")

    open_step(page, "participation")
    visited = tab_to(page, "field-activities")
    page.keyboard.type("Moderation")
    expect(page.locator("#field-activities-counter")).to_have_text("10 / 1000")
    visited = tab_to(page, "field-topic")
    assert fields_in(visited) == ["field-topic"], "the hidden consent is not in the tab order"
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#field-topic")).to_have_value("transparenz")
    expect(page.locator('[data-field="topic_consent"]')).to_be_visible()
    assert tab_to(page, "field-topic_consent") == ["field-topic_consent"]
    page.keyboard.press("Space")
    expect(page.locator("#field-topic_consent")).to_be_checked()
    shots(page, "participation filled by keyboard")
    assert tab_to(page, "next") == ["next"]
    page.keyboard.press("Enter")

    page.wait_for_url(f"**{FORM}/review")
    shots(page, "review")
    visited = tab_to(page, "submit")
    changes = [v.removeprefix("change:") for v in visited if v.startswith("change:")]
    assert changes == ["request", "name", "institution", "function", "street", "postcode",
                       "town", "phone", "email", "activities", "topic", "topic_consent"]
    page.keyboard.press("Enter")
    page.wait_for_url(f"**{FORM}/confirmation")
    reference = page.locator("#reference").inner_text().strip()
    shots(page, "confirmation")
    tab_to(page, "status-link")
    href = page.get_attribute("#status-link", "href")
    page.keyboard.press("Enter")
    page.wait_for_url("**/status/**")
    expect(page.locator("#reference")).to_have_text(reference)
    shots(page, "status page")

    assert href is not None
    submission = submission_for_token(live_server.db, href.rsplit("/", 1)[1])
    assert submission is not None and submission.reference == reference
    assert submission.answers == {
        "request": True, **PERSON, **ADDRESS, "activities": "Moderation",
        "topic": "transparenz", "topic_consent": True,
    }
    watch.assert_clean()
