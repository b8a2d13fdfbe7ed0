"""The API with files: multipart submissions (an ``answers`` part and one part per file
field), file answers with download urls behind the same bearer token, hostile uploads refused
with nothing stored, and an upload that streams."""

from __future__ import annotations

import io
import json
import tracemalloc
from typing import Any

from engine.services import list_submissions
from support.api import Api, assert_error
from support.postgres import BOTH_BACKENDS

pytestmark = BOTH_BACKENDS

URL = "/api/forms/funding/submissions"
PDF = b"%PDF-1.7\n" + b"0" * 5000 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 300
ANSWERS: dict[str, Any] = {
    "org_name": "Beteiligung vor Ort e. V.", "legal_form": "ggmbh",
    "contact_name": "Erika Mustermann", "contact_email": "erika@example.org",
    "project_title": "Bürgerrat", "project_description": "Ein Bürgerrat.",
    "start_date": "2027-03-01", "end_date": "2027-06-30",
    "costs": [{"cost_item": "Moderation", "cost_amount": 8000},
              {"cost_item": "Raummiete", "cost_amount": "3000,25"}],
    "requested_amount": 10000, "consent": True,
}


def _multipart(api: Api, answers: dict[str, Any], **files: Any) -> Any:
    data: dict[str, Any] = {"answers": json.dumps(answers)}
    for name, parts in files.items():
        data[name] = [(io.BytesIO(body), filename) for filename, body in parts]
    return api.client.post(URL, data=data, content_type="multipart/form-data")


def _stored_files(api: Api) -> int:
    with api.db.read() as store:
        return sum(len(store.files.of_submission(s.id))
                   for s in list_submissions(api.db, form_id="funding"))


def test_multipart_submission_stores_files_and_shows_them_with_urls(api: Api) -> None:
    response = _multipart(api, ANSWERS, budget_plan=[("Plan.pdf", PDF)],
                          statutes=[("Satzung.png", PNG)])
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    staff = api.tokens["coordinator"]
    read = api.get(f"/api/submissions/{created['id']}", token=staff).get_json()
    answers = read["answers"]
    assert answers["total_costs"] == 11000.25
    assert answers["costs"][1] == {"cost_item": "Raummiete", "cost_amount": 3000.25}
    [plan] = answers["budget_plan"]
    assert set(plan) == {"name", "size", "type", "sha256", "url"}
    assert (plan["name"], plan["size"], plan["type"]) == ("Plan.pdf", len(PDF), "application/pdf")
    download = api.client.get(plan["url"], headers={"Authorization": f"Bearer {staff}"})
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith('attachment; filename="Plan.pdf"')
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.mimetype == "application/pdf"
    # the applicant's own token reads its own files; nobody else without a token
    own = api.client.get(plan["url"], headers={"Authorization": f"Bearer {created['token']}"})
    assert own.status_code == 200
    assert_error(api.client.get(plan["url"]), 401)
    other = _multipart(api, ANSWERS, budget_plan=[("Plan.pdf", PDF)]).get_json()
    refused = api.client.get(plan["url"], headers={"Authorization": f"Bearer {other['token']}"})
    assert_error(refused, 403)
    missing = plan["url"].rsplit("/", 1)[0] + "/" + "0" * 32
    assert_error(api.client.get(missing, headers={"Authorization": f"Bearer {staff}"}), 404)


def test_hostile_uploads_are_refused_and_nothing_is_stored(api: Api) -> None:
    fake = _multipart(api, ANSWERS, budget_plan=[("Plan.pdf", b"MZ pretending")])
    body = assert_error(fake, 422, "invalid")
    assert "budget_plan" in body["errors"]
    too_many = _multipart(api, ANSWERS, budget_plan=[("a.pdf", PDF), ("b.pdf", PDF)])
    assert "budget_plan" in assert_error(too_many, 422)["errors"]
    required = _multipart(api, ANSWERS)  # total > 10000: the plan is required
    assert "budget_plan" in assert_error(required, 422)["errors"]
    # a JSON body cannot name files: references never come from a client
    spoofed = dict(ANSWERS, budget_plan=[{"id": "f" * 32, "name": "x.pdf", "size": 1,
                                          "type": "application/pdf", "sha256": "0" * 64}])
    assert "budget_plan" in assert_error(api.post(URL, {"answers": spoofed}), 422)["errors"]
    broken = api.client.post(URL, data={"answers": "{"}, content_type="multipart/form-data")
    assert_error(broken, 400, "invalid_json")
    api.app.config["MAX_UPLOAD_MB"] = 0.001
    over = _multipart(api, ANSWERS, budget_plan=[("Plan.pdf", PDF)])
    assert "zu groß" in assert_error(over, 422)["errors"]["budget_plan"][0]
    api.app.config["MAX_SUBMISSION_MB"] = 0.002
    assert_error(_multipart(api, ANSWERS, budget_plan=[("Plan.pdf", PDF)]), 413)
    assert list_submissions(api.db, form_id="funding") == []
    with api.db.read() as store:
        assert store.files.get("f" * 32) is None
    # JSON keeps its own limit, whatever the upload limits
    assert_error(api.client.post(URL, data="x" * 300_000, content_type="application/json"), 413)


def test_a_large_upload_streams(api: Api) -> None:
    """A file of almost 10 MB costs the web process far less memory than the file."""
    big = b"%PDF-1.7\n" + bytes(range(256)) * (9 * 1024 * 4)  # 9.4 MB: under the default cap
    tracemalloc.start()
    try:
        response = _multipart(api, ANSWERS, budget_plan=[("big.pdf", big)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 201, response.get_json()
    assert _stored_files(api) == 1
    # the test client holds the request body itself (about the file's size): what the app
    # adds on top is a chunk or two
    assert peak < len(big) + 4 * 1024 * 1024, peak
