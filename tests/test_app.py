"""The app factory: configuration from the environment, the secret key, the start page."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from web import create_app
from web.config import ConfigError
from web.db import get_db

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def clean_env(clean_env: None, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The developer's ``FORMFLOW_*`` variables removed; the test sets its own."""
    return monkeypatch


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_secret_key_is_generated_once_private_and_reused(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    instance = tmp_path / "instance"
    first = create_app({"INSTANCE_PATH": str(instance)})
    key_file = instance / "secret_key"
    assert key_file.is_file()
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.config["SECRET_KEY"]) == 64
    int(first.config["SECRET_KEY"], 16)  # token_hex(32)
    second = create_app({"INSTANCE_PATH": str(instance)})
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]
    assert [p.name for p in instance.iterdir()] == ["secret_key"]  # no temporary files left
    other = create_app({"INSTANCE_PATH": str(tmp_path / "other")})
    assert other.config["SECRET_KEY"] != first.config["SECRET_KEY"]


def test_secret_key_from_environment_wins(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("FORMFLOW_SECRET_KEY", "from-the-environment")
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert not (tmp_path / "instance" / "secret_key").exists()


def test_production_without_secret_key_refuses_to_start(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("FORMFLOW_ENV", "production")
    instance = tmp_path / "instance"
    with pytest.raises(ConfigError, match="FORMFLOW_SECRET_KEY"):
        create_app({"INSTANCE_PATH": str(instance)})
    assert not (instance / "secret_key").exists()
    # A key left in the instance folder by development use is not enough either.
    create_app({"INSTANCE_PATH": str(instance), "ENV": "development"})
    with pytest.raises(ConfigError):
        create_app({"INSTANCE_PATH": str(instance)})
    clean_env.setenv("FORMFLOW_SECRET_KEY", "s3cret")
    # Nor without the Impressum and the Datenschutzerklärung every page must link.
    with pytest.raises(ConfigError, match="FORMFLOW_IMPRINT_URL and FORMFLOW_PRIVACY_URL"):
        create_app({"INSTANCE_PATH": str(instance)})
    clean_env.setenv("FORMFLOW_IMPRINT_URL", "https://verein.example/impressum")
    with pytest.raises(ConfigError, match="^FORMFLOW_PRIVACY_URL must be set"):
        create_app({"INSTANCE_PATH": str(instance)})
    clean_env.setenv("FORMFLOW_PRIVACY_URL", "/datenschutz")
    assert create_app({"INSTANCE_PATH": str(instance)}).config["ENV"] == "production"


def test_unknown_environment_is_refused(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("FORMFLOW_ENV", "staging")
    with pytest.raises(ConfigError, match="FORMFLOW_ENV"):
        create_app({"INSTANCE_PATH": str(tmp_path)})


def test_environment_lands_in_app_config(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    instance = tmp_path / "inst"
    clean_env.setenv("FORMFLOW_INSTANCE", str(instance))
    clean_env.setenv("FORMFLOW_DATABASE_URL", "postgresql+psycopg://db/formflow")
    clean_env.setenv("FORMFLOW_REDIS_URL", "redis://127.0.0.1:6379/3")
    clean_env.setenv("FORMFLOW_SMTP_URL", "smtp://mail:25")
    clean_env.setenv("FORMFLOW_BASE_URL", "https://formulare.example.org/")
    app = create_app()
    assert app.instance_path == str(instance.resolve())
    assert app.config["DATABASE_URL"] == "postgresql+psycopg://db/formflow"
    assert app.config["REDIS_URL"] == "redis://127.0.0.1:6379/3"
    assert app.config["SMTP_URL"] == "smtp://mail:25"
    assert app.config["BASE_URL"] == "https://formulare.example.org"
    assert app.config["ENV"] == "development"


def test_defaults(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.chdir(tmp_path)
    app = create_app()
    instance = tmp_path.resolve() / "instance"
    assert app.instance_path == str(instance)
    assert app.config["DATABASE_URL"] == f"sqlite:///{instance / 'formflow.sqlite3'}"
    assert app.config["REDIS_URL"] is None
    assert app.config["SMTP_URL"] is None
    assert app.config["BASE_URL"] == "http://127.0.0.1:5000"
    assert Path(app.config["FORMS_DIR"]) == PROJECT_ROOT / "forms"
    assert Path(app.config["WORKFLOWS_DIR"]) == PROJECT_ROOT / "workflows"
    assert app.config["TIMEZONE"] == "Europe/Berlin"
    assert app.config["SQLITE_SYNCHRONOUS"] == "full"


def test_sqlite_synchronous_from_environment(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    clean_env.setenv("FORMFLOW_SQLITE_SYNCHRONOUS", "NORMAL")
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance")})
    assert app.config["SQLITE_SYNCHRONOUS"] == "normal"
    with get_db(app).engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    get_db(app).dispose()
    clean_env.setenv("FORMFLOW_SQLITE_SYNCHRONOUS", "off")
    with pytest.raises(ConfigError, match="FORMFLOW_SQLITE_SYNCHRONOUS"):
        create_app({"INSTANCE_PATH": str(tmp_path / "instance")})


def test_importing_the_package_has_no_side_effects(tmp_path: Path) -> None:
    import subprocess
    import sys

    subprocess.run(
        [sys.executable, "-c", "import web, web.config, web.cli"],
        cwd=tmp_path, check=True,
    )
    assert list(tmp_path.iterdir()) == []


def test_one_time_zone_for_every_page_and_mail(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """FORMFLOW_TIMEZONE is the zone of the applicant pages (Flask-Babel), the staff pages and
    the workers' mails alike (issue 18)."""
    from datetime import UTC, datetime

    from flask_babel import get_timezone

    from web.coordinator.presenting import format_datetime
    from web.notify import worker_settings

    clean_env.setenv("FORMFLOW_TIMEZONE", "America/New_York")
    app = create_app({"INSTANCE_PATH": str(tmp_path / "instance"),
                      "RATELIMIT_STORAGE_URI": "memory://"})
    assert app.config["TIMEZONE"] == "America/New_York"
    assert "BABEL_DEFAULT_TIMEZONE" not in app.config
    with app.test_request_context("/"):
        assert str(get_timezone()) == "America/New_York"
        assert format_datetime(datetime(2027, 1, 5, 23, 30, tzinfo=UTC), "en") == "2027-01-05 18:30"
    assert worker_settings(app).timezone == "America/New_York"


def test_an_unknown_time_zone_is_refused(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    clean_env.setenv("FORMFLOW_TIMEZONE", "Mars/Olympus_Mons")
    with pytest.raises(ConfigError, match="FORMFLOW_TIMEZONE"):
        create_app({"INSTANCE_PATH": str(tmp_path)})
