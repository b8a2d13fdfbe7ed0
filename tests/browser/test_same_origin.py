"""No request leaves the server's origin, and the pages run without console errors or
Content-Security-Policy violations — on every page of the applicant's flow.

Every request of the browser context is recorded (``context.on("request")`` covers each of its
pages, like ``page.on("request")`` on each); ``data:`` URLs are allowed. Console errors
include the ones Chromium logs for CSP violations ("Refused to …"), and an init script reports
``securitypolicyviolation`` events to the console as well (conftest.CSP_REPORTER). The pages
that answer with an error status on purpose (422, 404, 410) are registered with the watch, so
Chromium's "Failed to load resource" line for exactly those is not counted.
"""

from __future__ import annotations

from typing import Any

from support.browser import LiveServer, Shots, Watch
from support.browser_steps import FORM, tour


def test_every_request_stays_on_the_origin_without_console_errors(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    visited: list[str] = []

    def visit(name: str, current: Any) -> None:
        shots(current, name)
        visited.append(current.url)

    tour(page, live_server, visit, watch)
    page.goto("/?lang=en")  # the other language's pages come from the same place
    page.click("#start-membership")
    page.wait_for_url(f"**{FORM}/step/**")
    shots(page, "english step")

    assert len(visited) == 11
    origin = live_server.url + "/"
    # the recorder saw the documents and what they load: styles, scripts, the icon
    for path in ("static/formflow.css", "static/formflow-rules.js", "static/formflow-form.js",
                 "static/formflow-page.js", "static/favicon.svg", "f/membership/review"):
        assert any(url.startswith(origin + path) for url in watch.requests), path
    print(f"{len(watch.requests)} requests, all to {live_server.url}")
    watch.assert_clean()


def test_the_watch_notices_a_foreign_request_and_a_csp_violation(
    page: Any, live_server: LiveServer, shots: Shots, watch: Watch
) -> None:
    """The recorder can fail: a script from another origin is recorded and our CSP's refusal
    reported; a page without our CSP that loads from elsewhere is caught too (requests to the
    foreign host are aborted by a route: nothing leaves the machine)."""
    foreign = "http://192.0.2.1/"  # TEST-NET-1: never a real host
    page.route(foreign + "**", lambda route: route.abort())
    page.goto("/")
    with page.expect_console_message(lambda message: "CSP violation" in message.text):
        page.evaluate("""(url) => {
            const script = document.createElement('script');
            script.src = url + 'tracker.js';
            document.head.appendChild(script);
        }""", foreign)
    assert any("CSP violation: script-src" in e for e in watch.console_errors), \
        watch.console_errors
    # the attempt is recorded too, although the CSP stopped it
    assert watch.foreign_requests() == [foreign + "tracker.js"]

    with page.expect_request(foreign + "pixel.png"):
        page.set_content(f'<img src="{foreign}pixel.png" alt="">')
    shots(page, "foreign image refused")
    assert watch.foreign_requests() == [foreign + "tracker.js", foreign + "pixel.png"]
