"""Configuration from ``FORMFLOW_*`` environment variables into ``app.config``.

Every ``FORMFLOW_<NAME>`` variable of docs (INTERFACES) lands in ``app.config[<NAME>]`` so that
operators and code use the same words: ``DATABASE_URL``, ``SQLITE_SYNCHRONOUS``, ``REDIS_URL``,
``SMTP_URL``, ``SECRET_KEY``, ``ENV``, ``BASE_URL`` and ``TIMEZONE`` (the one zone every time
shown to staff and applicants is in, on pages and in mails). ``FORMFLOW_INSTANCE`` becomes
``app.instance_path`` (and ``INSTANCE_PATH``). ``FORMS_DIR``/``WORKFLOWS_DIR`` point at the
shipped definitions.

Reading the environment is kept apart from the app factory so that ``create_app`` can decide the
instance folder before Flask is constructed, and so that the rules (production needs a real
secret key) are checked in one place, before anything starts serving.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "DEFAULT_TIMEZONE",
    "ENVIRONMENTS",
    "PROJECT_ROOT",
    "SECRET_KEY_FILE",
    "ConfigError",
    "check_settings",
    "instance_path_from",
    "load_or_create_secret_key",
    "settings_from_environment",
]

ENVIRONMENTS = ("development", "production")
SQLITE_SYNCHRONOUS = ("full", "normal")
SECRET_KEY_FILE = "secret_key"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The checkout the package runs from: where the shipped ``forms/`` and ``workflows/`` live."""

DEFAULT_BASE_URL = "http://127.0.0.1:5000"
DEFAULT_TIMEZONE = "Europe/Berlin"
SQLITE_FILE = "formflow.sqlite3"


class ConfigError(RuntimeError):
    """The configuration cannot work; the message tells the operator what to set."""


def instance_path_from(environ: Mapping[str, str], test_config: Mapping[str, Any] | None) -> Path:
    """The absolute instance folder: test config first, then FORMFLOW_INSTANCE, then ./instance.

    Resolved against the current directory once, so later ``chdir`` calls don't move it.
    """
    if test_config is not None and test_config.get("INSTANCE_PATH"):
        raw = str(test_config["INSTANCE_PATH"])
    else:
        raw = environ.get("FORMFLOW_INSTANCE") or "instance"
    return Path(raw).expanduser().resolve()


def settings_from_environment(environ: Mapping[str, str], instance_path: Path) -> dict[str, Any]:
    """The ``app.config`` entries the ``FORMFLOW_*`` variables define, with their defaults.

    ``SECRET_KEY`` is only present when FORMFLOW_SECRET_KEY is set; the factory generates or
    refuses after test overrides have been applied.
    """
    env = (environ.get("FORMFLOW_ENV") or "development").strip().lower()
    settings: dict[str, Any] = {
        "ENV": env,
        "INSTANCE_PATH": str(instance_path),
        "DATABASE_URL": environ.get("FORMFLOW_DATABASE_URL")
        or f"sqlite:///{instance_path / SQLITE_FILE}",
        "SQLITE_SYNCHRONOUS": (environ.get("FORMFLOW_SQLITE_SYNCHRONOUS") or "full")
        .strip()
        .lower(),
        "REDIS_URL": environ.get("FORMFLOW_REDIS_URL") or None,
        "SMTP_URL": environ.get("FORMFLOW_SMTP_URL") or None,
        "BASE_URL": (environ.get("FORMFLOW_BASE_URL") or DEFAULT_BASE_URL).rstrip("/"),
        "FORMS_DIR": environ.get("FORMFLOW_FORMS_DIR") or str(PROJECT_ROOT / "forms"),
        "WORKFLOWS_DIR": environ.get("FORMFLOW_WORKFLOWS_DIR")
        or str(PROJECT_ROOT / "workflows"),
        "MAIL_DIR": str(instance_path / "mail"),
        "TIMEZONE": (environ.get("FORMFLOW_TIMEZONE") or "").strip() or DEFAULT_TIMEZONE,
    }
    secret = environ.get("FORMFLOW_SECRET_KEY")
    if secret:
        settings["SECRET_KEY"] = secret
    return settings


def check_settings(config: Mapping[str, Any]) -> None:
    """Refuse configurations that would run but be wrong (unknown env, production shortcuts)."""
    env = config.get("ENV")
    if env not in ENVIRONMENTS:
        raise ConfigError(
            f"FORMFLOW_ENV must be one of {', '.join(ENVIRONMENTS)}, not {env!r}."
        )
    zone = str(config.get("TIMEZONE") or "")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"FORMFLOW_TIMEZONE must be an IANA time zone such as {DEFAULT_TIMEZONE}, "
            f"not {zone!r}."
        ) from None
    synchronous = config.get("SQLITE_SYNCHRONOUS", "full")
    if synchronous not in SQLITE_SYNCHRONOUS:
        raise ConfigError(
            f"FORMFLOW_SQLITE_SYNCHRONOUS must be 'full' (the default) or 'normal', "
            f"not {synchronous!r}."
        )
    if env == "production" and not config.get("SECRET_KEY"):
        raise ConfigError(
            "FORMFLOW_SECRET_KEY must be set when FORMFLOW_ENV=production "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
        )


def load_or_create_secret_key(instance_path: Path) -> str:
    """The development secret key kept in the instance folder, created on first use.

    The key is written to a private temporary file (mode 0600) and hard-linked into place, so
    that two processes starting at once (web app and worker) end up with the same key and
    nobody ever reads a half-written file.
    """
    key_path = instance_path / SECRET_KEY_FILE
    try:
        return _read_key(key_path)
    except FileNotFoundError:
        pass
    instance_path.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".secret_key.", dir=instance_path)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp_name, key_path)
        except FileExistsError:
            pass  # another process was faster; use its key
    finally:
        os.unlink(tmp_name)
    return _read_key(key_path)


def _read_key(key_path: Path) -> str:
    key = key_path.read_text(encoding="ascii").strip()
    if not key:
        raise ConfigError(f"{key_path} is empty; delete it to generate a new secret key.")
    return key
