"""GET /api/forms and /api/forms/{id}: what is published, as published."""

from __future__ import annotations

import copy
import json

from engine.services import import_definition, publish_form
from support.api import PROJECT_ROOT, Api, assert_error
from support.postgres import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS


def test_lists_every_published_form_with_title_and_version(api: Api) -> None:
    response = api.get("/api/forms")

    assert response.status_code == 200
    forms = response.get_json()
    assert [f["id"] for f in forms] == ["club", "contact", "event-registration", "funding",
                                         "membership"]
    membership = next(f for f in forms if f["id"] == "membership")
    assert membership == {
        "id": "membership",
        "title": {"de": "Antrag auf Mitgliedschaft", "en": "Membership application"},
        "version": 1,
    }


def test_a_form_is_the_published_definition_with_its_version(api: Api) -> None:
    shipped = json.loads((PROJECT_ROOT / "forms" / "membership.json").read_text("utf-8"))

    response = api.get("/api/forms/membership")

    assert response.status_code == 200
    assert response.get_json() == {**shipped, "version": 1}


def test_a_newly_published_version_is_what_the_api_serves(api: Api) -> None:
    changed = json.loads((PROJECT_ROOT / "forms" / "membership.json").read_text("utf-8"))
    changed = copy.deepcopy(changed)
    changed["title"] = {"de": "Mitglied werden", "en": "Become a member"}
    import_definition(api.db, changed, "form")
    assert api.get("/api/forms/membership").get_json()["version"] == 1  # imported, unpublished

    publish_form(api.db, "membership")

    served = api.get("/api/forms/membership").get_json()
    assert served["version"] == 2
    assert served["title"] == {"de": "Mitglied werden", "en": "Become a member"}
    listed = {f["id"]: f for f in api.get("/api/forms").get_json()}
    assert listed["membership"]["version"] == 2


def test_an_unknown_form_is_404_json(api: Api) -> None:
    body = assert_error(api.get("/api/forms/no-such-form"), 404, "not_found")
    assert "no-such-form" in body["message"]
