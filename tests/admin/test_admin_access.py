"""Every administration route is for administrators only, and every POST needs a CSRF token.

The routes are not listed by hand: the test walks the app's URL map, so a route added later
without ``roles_required("admin")`` fails here.
"""

from __future__ import annotations

import json
import re

import pytest
from flask import Flask

from support.admin import Browser

SAMPLE_VALUES = {
    "kinds": "forms",
    "definition_id": "grant",
    "version": "1",
    "user_id": "1",
    "token_id": "1",
    "outbox_id": "1",
}


def admin_routes(app: Flask) -> list[tuple[str, str]]:
    """(method, url) of every admin endpoint, with sample values filled in."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("admin."):
            continue
        url = rule.rule
        for name in rule.arguments:
            url = url.replace(f"<{name}>", SAMPLE_VALUES[name])
        url = url.replace("<any(forms, workflows):kinds>", "forms")
        url = url.replace("<id:version>", "1").replace("<id:user_id>", "1")
        url = url.replace("<id:token_id>", "1").replace("<id:outbox_id>", "1")
        assert "<" not in url, url
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((method, url))
    return routes


def test_the_admin_blueprint_has_routes_for_every_part(app: Flask) -> None:
    urls = {url for _method, url in admin_routes(app)}
    for expected in ("/admin/forms", "/admin/forms/grant/edit", "/admin/forms/grant/draft",
                     "/admin/forms/grant/check", "/admin/forms/grant/publish",
                     "/admin/workflows/grant/diagram", "/admin/users",
                     "/admin/users/1/tokens", "/admin/forms/grant/diff"):
        assert expected in urls


def test_every_admin_view_requires_the_admin_role(app: Flask) -> None:
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith("admin."):
            assert getattr(view, "required_roles", None) == ("admin",), endpoint


def _request(browser: Browser, method: str, url: str) -> int:
    if method == "GET":
        return browser.get(url).status_code
    response = browser.client.open(url, method=method, data=json.dumps({}), headers={
        "X-CSRFToken": browser.token}, content_type="application/json")
    return response.status_code


def test_coordinators_are_refused_everywhere(app: Flask, coordinator: Browser) -> None:
    for method, url in admin_routes(app):
        assert _request(coordinator, method, url) == 403, (method, url)


def test_anonymous_visitors_are_sent_to_the_login(app: Flask, anonymous: Browser) -> None:
    for method, url in admin_routes(app):
        if method == "GET":
            response = anonymous.get(url)
        else:
            response = anonymous.client.open(url, method=method, data={
                "_csrf_token": anonymous.token})
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/login"), (method, url)


@pytest.mark.parametrize("url", [
    "/admin/forms/grant/draft", "/admin/forms/grant/check", "/admin/forms/grant/publish",
    "/admin/forms/grant/preview",
])
def test_json_posts_without_the_csrf_header_are_refused(admin: Browser, url: str) -> None:
    response = admin.post_json(url, {"definition": {}, "revision": 0}, csrf=False)
    assert response.status_code == 400
    with_token = admin.post_json(url, {"definition": {}, "revision": 0})
    assert with_token.status_code in (200, 404, 409, 422)


def test_form_posts_without_the_csrf_token_are_refused(admin: Browser, db: object) -> None:
    response = admin.client.post("/admin/users", data={
        "email": "new@example.org", "roles": "coordinator"})
    assert response.status_code == 400
    assert "new@example.org" not in admin.get("/admin/users").get_data(as_text=True)


def test_admin_pages_send_the_strict_content_security_policy(admin: Browser) -> None:
    response = admin.get("/admin/forms/grant/edit")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    page = response.get_data(as_text=True)
    # Scripts only from files; data travels in non-executed JSON blocks.
    for tag in re.findall(r"<script[^>]*>", page):
        assert 'src="' in tag or 'type="application/json"' in tag, tag
    assert " style=" not in page and "<style" not in page
