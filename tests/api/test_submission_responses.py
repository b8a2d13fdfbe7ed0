"""Every answer of POST /api/forms/{id}/submissions, pinned header by header and byte by byte.

The answers come from Flask, Flask-Limiter (``@limiter.limit``), Flask-Login, the security
headers and the JSON error handlers together; these tests hold them: the same status, the same
headers in the same order (``Location``, the rate-limit headers, the security headers,
``Vary: Cookie``, a session cookie only when the request asked for a language with ``?lang=``)
and the same body. Values that differ per run
(ids, tokens, times, signatures) are replaced by placeholders before comparing.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import TestResponse

from support.api import MEMBERSHIP_ANSWERS, Api
from web.security import CONTENT_SECURITY_POLICY

URL = "/api/forms/membership/submissions"

SECURITY = [
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"),
    ("Vary", "Cookie"),
]


def _limit(remaining: int, retry_after: str = "<seconds>") -> list[tuple[str, str]]:
    return [
        ("X-RateLimit-Limit", "3"),
        ("X-RateLimit-Remaining", str(remaining)),
        ("X-RateLimit-Reset", "<time>"),
        ("Retry-After", retry_after),
    ]


def _json(length: int) -> list[tuple[str, str]]:
    return [("Content-Type", "application/json"), ("Content-Length", str(length))]


def _normalised(response: TestResponse) -> tuple[int, list[tuple[str, str]], str]:
    """Status, headers and body with the per-run values replaced by placeholders."""
    body = response.get_data(as_text=True)
    headers: list[tuple[str, str]] = []
    for name, value in response.headers.to_wsgi_list():
        if name == "X-RateLimit-Reset":
            assert int(value) > 0
            value = "<time>"
        elif name == "Retry-After":
            assert 0 < int(value) <= 61, value
            value = "<seconds>"
        elif name == "Location":
            value = re.sub(r"/[0-9a-f]{32}$", "/<id>", value)
        elif name == "Set-Cookie":
            value = re.sub(r"^session=[^.;]+\.[^.;]+\.[^.;]+;", "session=<signed>;", value)
        headers.append((name, value))
    body = re.sub(r'"id":"[0-9a-f]{32}"', '"id":"<id>"', body)
    body = re.sub(r"[A-Za-z0-9_-]{43}", "<token>", body)
    return response.status_code, headers, body


CREATED_BODY = (
    '{"id":"<id>","reference":"M-2026-00001","state":"submitted",'
    '"status_url":"https://forms.example.org/status/<token>","token":"<token>"}\n'
)


def _created_body(response: TestResponse) -> str:
    year = re.search(r'"reference":"M-(\d{4})-', response.get_data(as_text=True))
    assert year is not None
    return CREATED_BODY.replace("M-2026-", f"M-{year.group(1)}-")


@pytest.mark.parametrize("api_config", [{"RATELIMIT_SUBMISSIONS": "3 per minute"}])
def test_created_invalid_and_limited_answers_are_pinned(api: Api) -> None:
    created = api.post(URL, {"answers": MEMBERSHIP_ANSWERS, "language": "en"})
    invalid = api.post(URL, {"answers": {}}, headers={"Accept-Language": "en"})
    bad = api.client.post(URL, data="answers=x", content_type="text/plain")
    limited = api.post(URL, {"answers": MEMBERSHIP_ANSWERS})

    assert _normalised(created) == (
        201,
        [*_json(235), ("Location", "/api/submissions/<id>"), *_limit(2), *SECURITY],
        _created_body(created),
    )
    invalid_body = (
        '{"error":"invalid","errors":{"email":["Please fill in this field."],'
        '"name":["Please fill in this field."],"request":["Please tick this box to continue."]},'
        '"message":"Please check your answers: some fields are not valid."}\n'
    )
    assert _normalised(invalid) == (
        422, [*_json(len(invalid_body)), *_limit(1), *SECURITY], invalid_body
    )
    bad_body = (
        '{"error":"invalid_json","message":"Send the body as JSON with the header '
        "'Content-Type: application/json'.\"}\n"
    )
    assert _normalised(bad) == (400, [*_json(len(bad_body)), *_limit(0), *SECURITY], bad_body)
    limited_body = (
        '{"error":"rate_limited","message":"Too many requests (limit: 3 per 1 minute); '
        'please wait and try again."}\n'
    )
    assert _normalised(limited) == (
        429, [*_json(len(limited_body)), *_limit(0), *SECURITY], limited_body
    )


@pytest.mark.parametrize("api_config", [{"RATELIMIT_SUBMISSIONS": "3 per minute"}])
@pytest.mark.parametrize(
    ("data", "content_type", "status", "body"),
    [
        ('{"answers": {"name": "Ada"', "application/json", 400,
         '{"error":"invalid_json","message":"The body is not valid JSON: Expecting \',\' '
         'delimiter (line 1, column 27)."}\n'),
        ('{"answers": {"age": NaN}}', "application/json", 400,
         '{"error":"invalid_json","message":"The body is not valid JSON."}\n'),
        (b'{"answers": {"name": "\xff"}}', "application/json", 400,
         '{"error":"invalid_json","message":"The body is not UTF-8 encoded JSON."}\n'),
        ("", "application/json", 400,
         '{"error":"invalid_json","message":"The body is not valid JSON: Expecting value '
         '(line 1, column 1)."}\n'),
        ('["answers"]', "application/json", 400,
         '{"error":"invalid_body","message":"The body must be a JSON object."}\n'),
        ('{"answers": {}, "language": 7}', "application/json", 400,
         '{"error":"invalid_body","message":"\'language\' must be a string."}\n'),
        # JSON travels as UTF-8 (RFC 8259 §8.1): no UTF-16, no encoded surrogate (issue 14)
        ('{"answers": {}}'.encode("utf-16"), "application/json", 400,
         '{"error":"invalid_json","message":"The body is not UTF-8 encoded JSON."}\n'),
        (b'{"answers": {"name": "x\xed\xa0\x80"}}', "application/json", 400,
         '{"error":"invalid_json","message":"The body is not UTF-8 encoded JSON."}\n'),
        ('{"answers": {}}', "application/merge-patch+json; charset=utf-8", 422, None),
    ],
)
def test_bodies_that_are_not_answers_are_pinned(
    api: Api, data: str | bytes, content_type: str, status: int, body: str | None
) -> None:
    response = api.client.post(URL, data=data, content_type=content_type)

    code, headers, text = _normalised(response)
    assert code == status, text
    if body is not None:
        assert text == body
    assert headers == [*_json(len(text.encode())), *_limit(2), *SECURITY]


def test_a_body_over_the_limit_and_an_unknown_form_are_pinned(api: Api) -> None:
    huge = api.client.post(URL, data="x" * (300 * 1024), content_type="application/json")
    unknown = api.post("/api/forms/no-such-form/submissions", {"answers": {}})

    limit = [("X-RateLimit-Limit", "1000"), ("X-RateLimit-Reset", "<time>")]
    huge_body = '{"error":"too_large","message":"The request body is too large."}\n'
    assert _normalised(huge) == (
        413,
        [*_json(len(huge_body)), limit[0], ("X-RateLimit-Remaining", "999"), limit[1],
         ("Retry-After", "<seconds>"), *SECURITY],
        huge_body,
    )
    unknown_body = (
        '{"error":"not_found","message":"There is no published form \'no-such-form\'."}\n'
    )
    code, headers, text = _normalised(unknown)
    assert code == 404
    assert text == unknown_body
    assert headers == [
        *_json(len(unknown_body)), limit[0], ("X-RateLimit-Remaining", "998"), limit[1],
        ("Retry-After", "<seconds>"), *SECURITY,
    ]


@pytest.mark.parametrize("api_config", [{"DATABASE_BUSY_TIMEOUT_MS": 100}])
def test_the_503_of_a_locked_database_is_pinned(api: Api, tmp_path: Path) -> None:
    blocker = sqlite3.connect(tmp_path / "data" / "formflow.sqlite3", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        response = api.post(URL, {"answers": MEMBERSHIP_ANSWERS})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()

    body = (
        '{"error":"storage_unavailable","message":"The database cannot be reached right now, '
        'so nothing was read or changed. Please try again shortly."}\n'
    )
    code, headers, text = _normalised(response)
    assert (code, text) == (503, body)
    assert headers == [
        *_json(len(body)), ("Retry-After", "<seconds>"), ("X-RateLimit-Limit", "1000"),
        ("X-RateLimit-Remaining", "999"), ("X-RateLimit-Reset", "<time>"), *SECURITY,
    ]
    # the database's 5 s, not the rate-limit window's reset (issue 14)
    assert response.headers["Retry-After"] == "5"


def test_a_language_asked_in_the_query_is_remembered_in_the_session(api: Api) -> None:
    asked = api.post(URL + "?lang=en", {"answers": MEMBERSHIP_ANSWERS})
    again = api.post(URL + "?lang=en", {"answers": MEMBERSHIP_ANSWERS})  # cookie sent back

    code, headers, _ = _normalised(asked)
    assert code == 201
    assert headers[-1] == (
        "Set-Cookie", "session=<signed>; HttpOnly; Path=/; SameSite=Lax"
    )
    assert headers[:-1] == [
        *_json(235), ("Location", "/api/submissions/<id>"),
        ("X-RateLimit-Limit", "1000"), ("X-RateLimit-Remaining", "999"),
        ("X-RateLimit-Reset", "<time>"), ("Retry-After", "<seconds>"), *SECURITY,
    ]
    code, headers, _ = _normalised(again)
    assert code == 201
    assert "Set-Cookie" not in dict(headers), "the remembered language is not written again"
    assert headers[-1] == ("Vary", "Cookie")


@pytest.mark.parametrize("cookie", ["garbage", ""])
def test_a_session_cookie_on_a_submission_changes_nothing(api: Api, cookie: str) -> None:
    api.client.set_cookie("session", cookie)

    response = api.post(URL, {"answers": MEMBERSHIP_ANSWERS})

    code, headers, _ = _normalised(response)
    assert code == 201
    assert [name for name, _ in headers] == [
        "Content-Type", "Content-Length", "Location", "X-RateLimit-Limit",
        "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After",
        *(name for name, _ in SECURITY),
    ]


def test_a_script_root_is_in_the_location(api: Api) -> None:
    response = api.client.post(
        URL, json={"answers": MEMBERSHIP_ANSWERS}, base_url="http://localhost/forms"
    )
    body: dict[str, Any] = response.get_json()

    assert response.status_code == 201
    assert response.headers["Location"] == f"/forms/api/submissions/{body['id']}"
