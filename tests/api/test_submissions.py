"""POST /api/forms/{id}/submissions: the same rules as the browser, answers in JSON."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.services import get_submission, notifications_for
from support.api import MEMBERSHIP_ANSWERS, Api, assert_error
from support.postgres import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS

URL = "/api/forms/membership/submissions"
MEMBERSHIP_INPUT_FIELDS = {
    "request", "name", "institution", "function", "street", "postcode", "town", "phone",
    "email", "activities", "topic", "topic_consent",
}


def test_a_valid_submission_is_stored_and_answered_with_201(api: Api) -> None:
    response = api.post(URL, {"answers": MEMBERSHIP_ANSWERS, "language": "en"})

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "reference", "state", "token", "status_url"}
    assert body["state"] == "submitted"
    assert body["reference"].startswith("M-") and body["reference"].endswith("-00001")
    assert body["status_url"] == f"https://forms.example.org/status/{body['token']}"
    assert response.headers["Location"] == f"/api/submissions/{body['id']}"
    stored = get_submission(api.db, body["id"])  # really in the database, through the services
    assert stored.reference == body["reference"]
    assert stored.answers["name"] == "Ada Lovelace"
    assert stored.language == "en"
    assert notifications_for(api.db, body["id"]), "the workflow's notifications are queued"


def test_references_count_up_and_tokens_differ(api: Api) -> None:
    first, second = api.submit(), api.submit()
    assert first["reference"][:-5] == second["reference"][:-5]
    assert int(second["reference"][-5:]) == int(first["reference"][-5:]) + 1
    assert first["token"] != second["token"] and first["id"] != second["id"]


def test_hidden_field_values_and_unknown_keys_are_dropped(api: Api) -> None:
    answers = {
        **MEMBERSHIP_ANSWERS,
        "topic": "",  # no topic chosen: the consent checkbox stays hidden ...
        "topic_consent": True,  # ... so whatever was sent for it is dropped
        "is_admin": True,  # names no field of the form
        "request_text": "a paragraph has no answer",
    }

    created = api.submit(answers=answers)

    stored = dict(get_submission(api.db, created["id"]).answers)
    assert set(stored) == MEMBERSHIP_INPUT_FIELDS - {"topic_consent"}
    assert stored["topic"] is None
    assert "is_admin" not in stored and "request_text" not in stored


def test_answers_are_typed_and_trimmed_like_in_the_browser(api: Api) -> None:
    created = api.submit(answers={**MEMBERSHIP_ANSWERS, "name": "  Ada Lovelace  ",
                                  "street": ""})

    stored = get_submission(api.db, created["id"]).answers
    assert stored["name"] == "Ada Lovelace"
    assert stored["street"] is None
    assert stored["request"] is True


@pytest.mark.parametrize(
    ("body_language", "accept_language", "name_error", "message_word"),
    [
        ("de", None, "Bitte füllen Sie dieses Feld aus.", "Bitte"),
        ("en", None, "Please fill in this field.", "Please"),
        (None, "en-GB,en;q=0.9,de;q=0.5", "Please fill in this field.", "Please"),
        (None, "fr-FR, de;q=0.4", "Bitte füllen Sie dieses Feld aus.", "Bitte"),
        ("de", "en", "Bitte füllen Sie dieses Feld aus.", "Bitte"),  # the body wins
        (None, None, "Bitte füllen Sie dieses Feld aus.", "Bitte"),  # the form's first: de
    ],
)
def test_invalid_answers_get_422_per_field_in_the_requested_language(
    api: Api,
    body_language: str | None,
    accept_language: str | None,
    name_error: str,
    message_word: str,
) -> None:
    body: dict[str, Any] = {"answers": {**MEMBERSHIP_ANSWERS, "name": "", "postcode": "1011"}}
    if body_language:
        body["language"] = body_language
    headers = {"Accept-Language": accept_language} if accept_language else {}

    response = api.post(URL, body, headers=headers)

    error = assert_error(response, 422, "invalid")
    assert error["message"].startswith(message_word)
    assert set(error["errors"]) == {"name", "postcode"}
    assert error["errors"]["name"] == [name_error]
    assert len(error["errors"]["postcode"]) == 1
    assert "10117" in error["errors"]["postcode"][0]  # the form's own pattern message


def test_without_a_language_a_form_speaks_its_first_language(api: Api) -> None:
    response = api.post("/api/forms/club/submissions", {"answers": {"age": -1}})

    error = assert_error(response, 422, "invalid")  # club lists English first
    assert error["errors"]["name"] == ["Please fill in this field."]
    assert error["message"].startswith("Please")


def test_nothing_is_stored_when_answers_are_invalid(api: Api) -> None:
    assert_error(api.post(URL, {"answers": {}}), 422, "invalid")
    created = api.submit()
    assert created["reference"].endswith("-00001"), "the refused submission used no number"


@pytest.mark.parametrize(
    ("data", "content_type", "code"),
    [
        ('{"answers": {"name": "Ada"', "application/json", "invalid_json"),
        ("", "application/json", "invalid_json"),
        ('{"answers": {"age": NaN}}', "application/json", "invalid_json"),
        (b'{"answers": {"name": "\xff"}}', "application/json", "invalid_json"),
        ('{"answers": {}}', "text/plain", "invalid_json"),
        ("answers=x", "application/x-www-form-urlencoded", "invalid_json"),
        ('["answers"]', "application/json", "invalid_body"),
        ('{"answers": ["Ada"]}', "application/json", "invalid_body"),
        ('{"answers": {}, "language": 7}', "application/json", "invalid_body"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_400(
    api: Api, data: str | bytes, content_type: str, code: str
) -> None:
    response = api.client.post(URL, data=data, content_type=content_type)

    assert_error(response, 400, code)


def test_a_body_over_the_limit_is_413(api: Api) -> None:
    huge = json.dumps({"answers": {"activities": "x" * (300 * 1024)}})

    response = api.client.post(URL, data=huge, content_type="application/json")

    assert_error(response, 413, "too_large")
    assert api.submit()["reference"].endswith("-00001")


@pytest.mark.parametrize("api_config", [{"API_MAX_CONTENT_LENGTH": 2048}])
def test_the_body_limit_is_configurable(api: Api) -> None:
    small = {"answers": MEMBERSHIP_ANSWERS}
    big = {"answers": {**MEMBERSHIP_ANSWERS, "activities": "x" * 3000}}

    assert api.post(URL, small).status_code == 201
    assert_error(api.post(URL, big), 413, "too_large")


@pytest.mark.parametrize("api_config", [{"RATELIMIT_SUBMISSIONS": "3 per minute"}])
def test_every_answer_of_the_limited_endpoint_tells_the_limit(api: Api) -> None:
    created = api.post(URL, {"answers": MEMBERSHIP_ANSWERS})
    refused = api.post(URL, {"answers": {}})  # 422: counted and described like any other
    api.submit()
    limited = api.post(URL, {"answers": MEMBERSHIP_ANSWERS})

    statuses = [r.status_code for r in (created, refused, limited)]
    assert statuses == [201, 422, 429]
    for response, remaining in ((created, "2"), (refused, "1"), (limited, "0")):
        assert response.headers["X-RateLimit-Limit"] == "3"
        assert response.headers["X-RateLimit-Remaining"] == remaining
        assert int(response.headers["X-RateLimit-Reset"]) > 0
        assert 0 < int(response.headers["Retry-After"]) <= 61


def test_an_unknown_form_is_404(api: Api) -> None:
    body = assert_error(
        api.post("/api/forms/no-such-form/submissions", {"answers": {}}), 404, "not_found"
    )
    assert "no-such-form" in body["message"]


@pytest.mark.parametrize("api_config", [{"RATELIMIT_SUBMISSIONS": "2 per minute"}])
def test_submissions_are_rate_limited_per_address_with_retry_after(api: Api) -> None:
    api.submit()
    api.submit()

    response = api.post(URL, {"answers": MEMBERSHIP_ANSWERS})

    body = assert_error(response, 429, "rate_limited")
    assert "2 per 1 minute" in body["message"]
    assert 0 < int(response.headers["Retry-After"]) <= 60
    other_address = api.client.post(
        URL, json={"answers": MEMBERSHIP_ANSWERS}, environ_base={"REMOTE_ADDR": "192.0.2.7"}
    )
    assert other_address.status_code == 201
    assert api.get("/api/forms").status_code == 200, "reading is not limited"


@pytest.mark.parametrize("api_config", [{"RATELIMIT_SUBMISSIONS": "1 per second"}])
def test_an_in_memory_window_ends(api: Api) -> None:
    import time

    api.submit()
    assert api.post(URL, {"answers": MEMBERSHIP_ANSWERS}).status_code == 429
    time.sleep(1.1)  # the window is over: the address may submit again
    assert api.post(URL, {"answers": MEMBERSHIP_ANSWERS}).status_code == 201
