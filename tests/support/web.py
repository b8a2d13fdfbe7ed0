"""Helpers for the applicant page tests: a person's browser over Flask's test client, a
form that exercises every field type, and small HTML probes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import unescape
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

__all__ = ["SURVEY", "Browser", "element", "text_of", "wrapper"]

CSRF_RE = re.compile(r'name="_csrf_token" value="([^"]+)"')

# A form that exercises every field type and a step the rules can hide.
SURVEY: dict[str, Any] = {
    "id": "survey",
    "title": {"de": "Umfrage", "en": "Survey"},
    "description": {"de": "Eine kurze Umfrage.", "en": "A short survey."},
    "languages": ["de", "en"],
    "workflow": "review",
    "applicant": {"email": "email"},
    "steps": [
        {"id": "basics", "title": {"de": "Grunddaten", "en": "Basics"}, "fields": [
            {"id": "kind", "type": "radio", "required": True,
             "label": {"de": "Sie antworten als", "en": "You answer as"},
             "options": [
                 {"value": "person", "label": {"de": "Privatperson", "en": "Private person"}},
                 {"value": "organisation", "label": {"de": "Organisation", "en": "Organisation"}},
             ]},
            {"id": "email", "type": "email", "label": {"de": "E-Mail", "en": "Email"}},
            {"id": "age", "type": "number", "min": 16, "max": 120,
             "label": {"de": "Alter", "en": "Age"}},
            {"id": "since", "type": "date", "label": {"de": "Dabei seit", "en": "Member since"}},
            {"id": "website", "type": "url", "label": {"de": "Webseite", "en": "Website"}},
        ]},
        {"id": "organisation", "title": {"de": "Organisation", "en": "Organisation"}, "fields": [
            {"id": "org_name", "type": "text", "required": True,
             "label": {"de": "Name der Organisation", "en": "Name of the organisation"}},
        ]},
        {"id": "interests", "title": {"de": "Interessen", "en": "Interests"}, "fields": [
            {"id": "topics", "type": "checkboxes", "required": True, "max_selected": 2,
             "label": {"de": "Themen", "en": "Topics"},
             "options": [
                 {"value": "a", "label": {"de": "Thema A", "en": "Topic A"}},
                 {"value": "b", "label": {"de": "Thema B", "en": "Topic B"}},
                 {"value": "c", "label": {"de": "Thema C", "en": "Topic C"}},
             ]},
        ]},
    ],
    "rules": [
        {"when": {"field": "kind", "op": "equal_to", "value": "organisation"},
         "show": ["organisation"]},
    ],
}


class Browser:
    """Flask's test client with what a person's browser would do: keep the last page, send
    its CSRF token with the next form, follow redirects."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.response: TestResponse | None = None

    @property
    def page(self) -> str:
        assert self.response is not None
        return self.response.get_data(as_text=True)

    @property
    def status(self) -> int:
        assert self.response is not None
        return self.response.status_code

    @property
    def path(self) -> str:
        assert self.response is not None
        return self.response.request.path

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        self.response = self.client.get(url, follow_redirects=True, **kwargs)
        return self.response

    def csrf_token(self) -> str:
        found = CSRF_RE.search(self.page)
        assert found, "the page has no CSRF token"
        return unescape(found.group(1))

    def post(self, url: str, data: Mapping[str, Any] | None = None, *,
             csrf: bool = True, follow: bool = True) -> TestResponse:
        body = dict(data or {})
        if csrf:
            body["_csrf_token"] = self.csrf_token()
        self.response = self.client.post(url, data=body, follow_redirects=follow)
        return self.response

    def step(self, form_id: str, step_id: str, answers: Mapping[str, Any] | None = None,
             action: str = "next", **extra: Any) -> TestResponse:
        """Send a step page as a person would after filling it in (the page must be open)."""
        data = dict(answers or {})
        data["_action"] = action
        data.update(extra)
        return self.post(f"/f/{form_id}/step/{step_id}", data)

    def submit(self, form_id: str, **extra: Any) -> TestResponse:
        return self.post(f"/f/{form_id}/submit", dict(extra))


def text_of(html: str) -> str:
    """The visible-ish text of a page: tags removed, entities decoded, spaces collapsed."""
    without_scripts = re.sub(r"<script\b.*?</script>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", without_scripts)).split())


def element(html: str, element_id: str) -> str:
    """The opening tag of the element with ``id`` (for attribute checks)."""
    found = re.search(rf'<[a-z]+\b[^>]*\bid="{re.escape(element_id)}"[^>]*>', html)
    assert found, f"no element with id={element_id!r}"
    return found.group(0)


def wrapper(html: str, field_id: str) -> str:
    """The opening tag of the ``data-field`` wrapper of ``field_id``."""
    found = re.search(rf'<[a-z]+\b[^>]*\bdata-field="{re.escape(field_id)}"[^>]*>', html)
    assert found, f"no wrapper for field {field_id!r}"
    return found.group(0)
