"""Every error under /api is JSON in one shape — unknown paths, wrong methods, a database that
is gone or locked (503, then a retry succeeds), and the unexpected (500) — never a traceback.

The database failures are real: SQLite really locked by another connection or really missing,
PostgreSQL really unreachable.
"""

from __future__ import annotations

import socket
import sqlite3
from pathlib import Path

import pytest
from flask import Blueprint

from support.api import MEMBERSHIP_ANSWERS, Api, assert_error, make_app
from web.api.errors import register_error_handlers

SUBMIT = "/api/forms/membership/submissions"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api"), ("GET", "/api/"), ("GET", "/api/nothing/here"), ("POST", "/api/nothing"),
     ("GET", "/api/forms/membership/versions"), ("DELETE", "/api/submissions/x/y/z")],
)
def test_unknown_api_paths_are_404_json(api: Api, method: str, path: str) -> None:
    assert_error(api.client.open(path, method=method), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("POST", "/api/forms", {"GET", "HEAD", "OPTIONS"}),
     ("DELETE", "/api/forms/membership", {"GET", "HEAD", "OPTIONS"}),
     ("GET", "/api/forms/membership/submissions", {"POST", "OPTIONS"}),
     ("PUT", "/api/submissions/abc", {"GET", "HEAD", "OPTIONS"}),
     ("GET", "/api/submissions/abc/transitions", {"POST", "OPTIONS"})],
)
def test_a_method_an_address_does_not_take_is_405_json(
    api: Api, method: str, path: str, allowed: set[str]
) -> None:
    response = api.client.open(path, method=method)

    assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == allowed


def _free_port() -> int:
    with socket.socket() as probe:  # a port on which nothing listens
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_database_is_503_json_with_retry_after(
    clean_env: None, tmp_path: Path
) -> None:
    app = make_app(tmp_path / "instance",
                   f"postgresql+psycopg://postgres@127.0.0.1:{_free_port()}/test")
    client = app.test_client()
    bearer = {"Authorization": "Bearer some-token"}
    responses = [
        client.get("/api/forms"),
        client.get("/api/forms/membership"),
        client.post(SUBMIT, json={"answers": MEMBERSHIP_ANSWERS}),
        client.get("/api/submissions/abc", headers=bearer),
        client.post("/api/submissions/abc/transitions", json={"transition": "review"},
                    headers=bearer),
    ]

    for response in responses:
        body = assert_error(response, 503, "storage_unavailable")
        assert int(response.headers["Retry-After"]) > 0
        assert "try again" in body["message"]
        assert "127.0.0.1" not in body["message"], "no infrastructure details for clients"


@pytest.mark.parametrize("api_config", [{"DATABASE_BUSY_TIMEOUT_MS": 200}])
def test_a_locked_database_is_503_and_a_later_retry_succeeds(
    api: Api, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = sqlite3.connect(tmp_path / "data" / "formflow.sqlite3", isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
    try:
        response = api.post(SUBMIT, {"answers": MEMBERSHIP_ANSWERS})
        assert_error(response, 503, "storage_unavailable")
        assert "Retry-After" in response.headers
        assert "busy" in caplog.text, "the log says why, for operators"
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()

    created = api.submit()  # the retry
    assert created["reference"].endswith("-00001"), "the refused attempt left nothing behind"


def test_a_vanished_database_folder_is_503_until_it_is_back(api: Api, tmp_path: Path) -> None:
    api.db.dispose()  # no pooled connection keeps the old file open
    (tmp_path / "data").rename(tmp_path / "elsewhere")  # the volume is gone
    try:
        assert_error(api.get("/api/forms"), 503, "storage_unavailable")
        assert_error(api.post(SUBMIT, {"answers": MEMBERSHIP_ANSWERS}), 503,
                     "storage_unavailable")
    finally:
        (tmp_path / "elsewhere").rename(tmp_path / "data")

    assert api.get("/api/forms").status_code == 200
    assert api.submit()["state"] == "submitted"


def test_an_unexpected_error_is_a_generic_500_without_traceback(
    clean_env: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(tmp_path / "instance", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    probe = Blueprint("probe", __name__, url_prefix="/api/probe")
    register_error_handlers(probe)  # the API blueprint's handlers, on a route that fails

    @probe.get("/boom")
    def boom() -> str:
        raise RuntimeError("secret detail from deep inside")

    app.register_blueprint(probe)

    response = app.test_client().get("/api/probe/boom")

    body = assert_error(response, 500, "internal_error")
    assert "secret detail" not in response.get_data(as_text=True)
    assert "try again" in body["message"]
    assert "secret detail from deep inside" in caplog.text, "operators still see what happened"
