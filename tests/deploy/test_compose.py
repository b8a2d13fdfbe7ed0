"""docker-compose.yml and the Dockerfile, checked without Docker (none runs here).

The compose file is validated against the Compose Specification's own JSON Schema (vendored
in ``compose-spec.json``), then against what formflow needs from it: the five services, one
image for web and workers, scalable workers, health checks, named volumes, and settings
passed only as FORMFLOW_* variables.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft7Validator

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).with_name("compose-spec.json")).read_text("utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text("utf-8"))
    assert isinstance(data, dict)
    return data


def schema_errors(document: Any) -> list[str]:
    validator = Draft7Validator(SCHEMA)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in validator.iter_errors(document))


def test_the_vendored_schema_is_the_compose_specification() -> None:
    Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["title"] == "Compose Specification"
    assert {"service", "healthcheck", "volume"} <= set(SCHEMA["definitions"])


def test_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    assert schema_errors(compose) == []
    # The schema really is strict: the same file with a typo in a service is refused.
    broken = copy.deepcopy(compose)
    broken["services"]["worker"]["helthcheck"] = {"test": ["CMD", "true"]}
    assert any("helthcheck" in error for error in schema_errors(broken))


def test_services_and_their_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"web", "worker", "redis", "postgres", "mailpit"} <= set(services)
    web_check = services["web"]["healthcheck"]["test"]
    assert "/healthz" in " ".join(web_check)
    assert services["redis"]["healthcheck"]["test"] == ["CMD", "redis-cli", "ping"]
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    for name in ("web", "worker"):
        depends = services[name]["depends_on"]
        assert depends["postgres"]["condition"] == "service_healthy"
        assert depends["redis"]["condition"] == "service_healthy"
        assert depends["init"]["condition"] == "service_completed_successfully"
    assert services["init"]["command"] == ["formflow", "init"]


def test_web_and_workers_share_one_image_and_workers_scale(compose: dict[str, Any]) -> None:
    services = compose["services"]
    web, worker = services["web"], services["worker"]
    assert web["image"] == worker["image"] == services["init"]["image"]
    assert web["build"] == worker["build"] == "."
    assert "gunicorn" in web["command"] and "web:create_app()" in web["command"]
    assert worker["command"] == ["formflow", "worker"]
    # `docker compose up --scale worker=4` needs generated names and no fixed host ports.
    assert "container_name" not in worker and "ports" not in worker
    assert "container_name" not in web


def test_state_lives_in_named_volumes(compose: dict[str, Any]) -> None:
    volumes = compose["volumes"]
    services = compose["services"]

    def named(service: str) -> set[str]:
        return {str(v).split(":", 1)[0] for v in services[service].get("volumes", [])}

    assert "postgres-data" in named("postgres") and "postgres-data" in volumes
    assert "redis-data" in named("redis") and "redis-data" in volumes
    assert named("web") == named("worker") == {"instance"} and "instance" in volumes


def test_configuration_only_through_formflow_variables(compose: dict[str, Any]) -> None:
    services = compose["services"]
    env = services["web"]["environment"]
    assert env == services["worker"]["environment"] == services["init"]["environment"]
    assert set(env) == {name for name in env if name.startswith("FORMFLOW_")}
    assert env["FORMFLOW_ENV"] == "production"
    assert env["FORMFLOW_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["FORMFLOW_REDIS_URL"] == "redis://redis:6379/0"
    assert env["FORMFLOW_SMTP_URL"].endswith("smtp://mailpit:1025}")
    # web is published on 127.0.0.1 for the reverse proxy of docs/deploy.md: its one hop's
    # X-Forwarded-For is trusted, so rate limits count per client, not per proxy.
    (port,) = services["web"]["ports"]
    assert str(port).startswith("${FORMFLOW_HTTP_BIND:-127.0.0.1}:")
    assert env["FORMFLOW_TRUSTED_PROXIES"] == "${FORMFLOW_TRUSTED_PROXIES:-1}"
    # Secrets come from the operator's .env, never from the file itself.
    assert re.fullmatch(r"\$\{FORMFLOW_SECRET_KEY:\?.+\}", env["FORMFLOW_SECRET_KEY"])
    assert "${POSTGRES_PASSWORD:?" in env["FORMFLOW_DATABASE_URL"]
    # The legal pages, required in production, are passed through from the operator's .env.
    for name in ("FORMFLOW_IMPRINT_URL", "FORMFLOW_PRIVACY_URL"):
        assert re.fullmatch(rf"\$\{{{name}:\?.+\}}", env[name]), name


def test_dockerfile_builds_one_non_root_image_of_the_project() -> None:
    text = (PROJECT_ROOT / "Dockerfile").read_text("utf-8")
    stages = re.findall(r"^FROM (\S+)", text, flags=re.MULTILINE)
    assert stages and all(stage == "python:3.11-slim" for stage in stages)
    runtime = text.rsplit("\nFROM ", 1)[1]
    user = re.findall(r"^USER (\S+)", runtime, flags=re.MULTILINE)
    assert user and user[-1] not in ("root", "0")
    assert "pip install" in runtime and "formflow" in runtime
    assert "COPY forms" in runtime and "COPY workflows" in runtime
    ignored = (PROJECT_ROOT / ".dockerignore").read_text("utf-8").split()
    assert {".git", ".venv", "instance", ".env"} <= set(ignored)
