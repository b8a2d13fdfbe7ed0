"""The ``formflow`` command line as operators and scripts see it: output, shapes, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskCliRunner

from web.cli import main

VECTORS = json.loads((Path(__file__).parent / "rule-vectors.json").read_text("utf-8"))
PROJECT_ROOT = Path(__file__).resolve().parent.parent
MEMBERSHIP = PROJECT_ROOT / "forms" / "membership.json"

VALID_WORKFLOW = {
    "id": "simple",
    "title": {"de": "Einfach", "en": "Simple"},
    "initial": "submitted",
    "states": [
        {"id": "submitted", "label": "Eingegangen"},
        {"id": "done", "label": "Erledigt", "final": True},
    ],
    "transitions": [
        {"id": "finish", "from": "submitted", "to": "done", "roles": ["coordinator"]},
    ],
}


def _write(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def _vector(name: str) -> dict[str, Any]:
    return next(c for c in VECTORS["invalid_definitions"] if c["name"] == name)


def _case(name: str) -> dict[str, Any]:
    return next(c for c in VECTORS["cases"] if c["name"] == name)


# --- forms validate -----------------------------------------------------------------------


def test_valid_form_exits_0_and_prints_no_problem(runner: FlaskCliRunner) -> None:
    result = runner.invoke(main, ["forms", "validate", str(MEMBERSHIP)])
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "1 file(s) checked: 0 error(s), 0 warning(s)." in result.stderr


def test_invalid_form_prints_file_pointer_message_and_exits_1(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    bad = _write(tmp_path, "bad.json", _vector("rule shows an unknown field")["form"])
    result = runner.invoke(main, ["forms", "validate", str(MEMBERSHIP), bad])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines, "an invalid file must produce at least one problem line"
    assert all(line.startswith(f"{bad}: /") for line in lines), lines
    assert any(line.startswith(f"{bad}: /rules/0/show/1: ") and "ghost" in line for line in lines)
    assert str(MEMBERSHIP) not in result.stdout


def test_json_output_lists_problems_with_file_pointer_message_severity(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    bad = _write(tmp_path, "bad.json", _vector("unknown field type")["form"])
    result = runner.invoke(main, ["forms", "validate", "--json", bad])
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    assert isinstance(problems, list) and problems
    for problem in problems:
        assert set(problem) == {"file", "pointer", "message", "severity"}
        assert problem["file"] == bad
        assert problem["severity"] in ("error", "warning")
    assert any(p["pointer"].startswith("/steps/0/fields/0") for p in problems)


def test_json_output_of_valid_files_is_an_empty_list(runner: FlaskCliRunner) -> None:
    result = runner.invoke(main, ["forms", "validate", "--json", str(MEMBERSHIP)])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == []


def test_invalid_json_syntax_is_a_problem_at_the_root_not_a_traceback(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    broken = _write(tmp_path, "broken.json", '{"id": "x",\n  "title": }')
    result = runner.invoke(main, ["forms", "validate", "--json", broken])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    [problem] = json.loads(result.stdout)
    assert problem["file"] == broken
    assert problem["pointer"] == ""
    assert problem["severity"] == "error"
    assert "not valid JSON" in problem["message"] and "line 2" in problem["message"]


def test_missing_file_and_non_utf8_file_are_problems(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('{"title": "Straße"}'.encode("latin-1"))
    missing = str(tmp_path / "missing.json")
    result = runner.invoke(main, ["forms", "validate", missing, str(latin1)])
    assert result.exit_code == 1
    assert f"{missing}: /: no such file" in result.stdout
    assert f"{latin1}: /: not valid JSON" in result.stdout
    assert "Traceback" not in result.output


def test_a_json_value_that_is_not_an_object_is_refused(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    listed = _write(tmp_path, "list.json", "[1, 2]")
    result = runner.invoke(main, ["forms", "validate", listed])
    assert result.exit_code == 1
    assert result.stdout.startswith(f"{listed}: ")


def test_warnings_are_marked_and_do_not_fail(runner: FlaskCliRunner, tmp_path: Path) -> None:
    form = _case("a rule may read a field on a later step")["form"]
    path = _write(tmp_path, "later.json", form)
    result = runner.invoke(main, ["forms", "validate", path])
    assert result.exit_code == 0, result.output
    assert result.stdout, "the linter must warn about a rule reading a later step"
    assert all(": warning: " in line for line in result.stdout.splitlines())
    as_json = json.loads(runner.invoke(main, ["forms", "validate", "--json", path]).stdout)
    assert {p["severity"] for p in as_json} == {"warning"}


def test_a_folder_stands_for_its_json_files(runner: FlaskCliRunner, tmp_path: Path) -> None:
    _write(tmp_path, "good.json", json.loads(MEMBERSHIP.read_text("utf-8")))
    bad = _write(tmp_path, "bad.json", _vector("duplicate option values")["form"])
    _write(tmp_path, "notes.txt", "not a definition")
    result = runner.invoke(main, ["forms", "validate", "--json", str(tmp_path)])
    assert result.exit_code == 1
    assert {p["file"] for p in json.loads(result.stdout)} == {bad}
    summary = runner.invoke(main, ["forms", "validate", str(tmp_path)]).stderr
    assert "2 file(s) checked" in summary


def test_validate_without_files_is_a_usage_error(runner: FlaskCliRunner) -> None:
    result = runner.invoke(main, ["forms", "validate"])
    assert result.exit_code == 2


# --- forms evaluate -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "seed rule: topic chosen, consent shown and now required",
        "cascade: parent hidden hides the child even when its value is sent",
        "shown step: complete and numbers normalised",
    ],
)
def test_evaluate_prints_the_vector_result(
    runner: FlaskCliRunner, tmp_path: Path, name: str
) -> None:
    case = _case(name)
    form = _write(tmp_path, "form.json", case["form"])
    answers = _write(tmp_path, "answers.json", case["answers"])
    result = runner.invoke(main, ["forms", "evaluate", form, "--answers", answers])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert list(printed) == [
        "visible_fields", "visible_steps", "required", "invalid", "answers", "errors",
    ]
    for key, expected in case["expect"].items():
        assert printed[key] == expected, key
    assert sorted(printed["errors"]) == case["expect"]["invalid"]
    assert all(
        isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages)
        for messages in printed["errors"].values()
    )


def test_evaluate_messages_follow_the_language_option(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    answers = _write(tmp_path, "answers.json", {"name": "Ada Muster", "email": "ada@example.org"})
    args = ["forms", "evaluate", str(MEMBERSHIP), "--answers", answers]
    german = json.loads(runner.invoke(main, args).stdout)["errors"]["request"]
    english = json.loads(runner.invoke(main, [*args, "--language", "en"]).stdout)["errors"]
    assert english["request"] != german
    assert runner.invoke(main, [*args, "--language", "fr"]).exit_code == 2


def test_evaluate_an_invalid_definition_exits_1_with_problems_on_stderr(
    runner: FlaskCliRunner, tmp_path: Path
) -> None:
    form = _write(tmp_path, "form.json", _vector("cycle between two fields")["form"])
    answers = _write(tmp_path, "answers.json", {})
    result = runner.invoke(main, ["forms", "evaluate", form, "--answers", answers])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{form}: /rules" in result.stderr


@pytest.mark.parametrize("answers_text", ["[1]", "{not json"])
def test_evaluate_refuses_answers_that_are_not_a_json_object(
    runner: FlaskCliRunner, tmp_path: Path, answers_text: str
) -> None:
    answers = _write(tmp_path, "answers.json", answers_text)
    result = runner.invoke(main, ["forms", "evaluate", str(MEMBERSHIP), "--answers", answers])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{answers}: /: ")
    assert "Traceback" not in result.output


# --- workflows validate -------------------------------------------------------------------


def test_workflows_validate_valid_and_invalid(runner: FlaskCliRunner, tmp_path: Path) -> None:
    good = _write(tmp_path, "simple.json", VALID_WORKFLOW)
    assert runner.invoke(main, ["workflows", "validate", good]).exit_code == 0

    unreachable = dict(VALID_WORKFLOW)
    unreachable["states"] = [*VALID_WORKFLOW["states"], {"id": "limbo", "label": "Limbo"}]
    bad = _write(tmp_path, "bad.json", unreachable)
    result = runner.invoke(main, ["workflows", "validate", "--json", good, bad])
    assert result.exit_code == 1
    problems = json.loads(result.stdout)
    assert problems and {p["file"] for p in problems} == {bad}
    assert all(set(p) == {"file", "pointer", "message", "severity"} for p in problems)
    assert any(p["pointer"].startswith("/states/2") for p in problems)


# --- app-level commands -------------------------------------------------------------------


def test_groups_are_reachable_through_app_cli(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["forms", "validate", str(MEMBERSHIP)])
    assert result.exit_code == 0, result.output


def test_run_offers_host_port_and_no_worker(runner: FlaskCliRunner) -> None:
    result = runner.invoke(main, ["run", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--no-worker"):
        assert option in result.stdout


def test_run_rejects_a_port_out_of_range(runner: FlaskCliRunner) -> None:
    assert runner.invoke(main, ["run", "--port", "70000"]).exit_code == 2


def test_production_without_secret_key_is_a_plain_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    monkeypatch.setenv("FORMFLOW_ENV", "production")
    monkeypatch.delenv("FORMFLOW_SECRET_KEY", raising=False)
    monkeypatch.setenv("FORMFLOW_INSTANCE", str(tmp_path / "instance"))
    result = CliRunner().invoke(main, ["routes"])
    assert result.exit_code == 1
    assert "FORMFLOW_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.output
    assert not (tmp_path / "instance" / "secret_key").exists()
