"""Generated definitions through the two ways an administrator imports one — the admin page's
upload and ``formflow forms import`` — answer with problems or a new version, never a 500 or a
traceback: shipped forms with one place replaced by junk, and arbitrary bytes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskCliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.services import Database, import_directory
from support.admin import Browser
from support.hostile import ROOT, SHIPPED_FORMS, mutated


@pytest.fixture(autouse=True)
def shipped_definitions(db: Database) -> None:
    """The shipped workflows published, so that mutated shipped forms can get through."""
    outcomes = import_directory(db, ROOT / "forms", ROOT / "workflows")
    assert all(o.ok for o in outcomes)


BUDGET = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))


def _as_bytes(document: Any) -> bytes:
    """JSON as a careless tool might write it (NaN and lone surrogates pass through)."""
    return json.dumps(document, ensure_ascii=False).encode("utf-8", "surrogatepass")


DEFINITION_FILES = st.one_of(
    st.sampled_from(sorted(SHIPPED_FORMS)).flatmap(
        lambda name: mutated(SHIPPED_FORMS[name])).map(_as_bytes),
    st.binary(max_size=200),
)


@BUDGET
@given(raw=DEFINITION_FILES)
def test_an_uploaded_definition_gives_problems_or_a_version(admin: Browser, raw: bytes) -> None:
    response = admin.post_form("/admin/forms/import", {
        "definition_file": (io.BytesIO(raw), "definition.json"), "publish": "on",
    }, content_type="multipart/form-data")

    assert response.status_code in {302, 422}, response.get_data(as_text=True)[:500]
    assert "Traceback" not in response.get_data(as_text=True)


@BUDGET
@given(raw=DEFINITION_FILES)
def test_a_definition_file_imported_on_the_command_line_gives_problems_or_a_version(
    runner: FlaskCliRunner, tmp_path: Path, raw: bytes
) -> None:
    path = tmp_path / "definition.json"
    path.write_bytes(raw)

    result = runner.invoke(args=["forms", "import", str(path), "--publish"])

    assert result.exit_code in {0, 1}, (result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
