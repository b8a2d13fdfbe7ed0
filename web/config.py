"""Configuration from ``FORMFLOW_*`` environment variables into ``app.config``.

Every ``FORMFLOW_<NAME>`` variable of docs (INTERFACES) lands in ``app.config[<NAME>]`` so that
operators and code use the same words: ``DATABASE_URL``, ``SQLITE_SYNCHRONOUS``, ``REDIS_URL``,
``SMTP_URL``, ``SECRET_KEY``, ``ENV``, ``BASE_URL``, ``TIMEZONE`` (the one zone every time
shown to staff and applicants is in, on pages and in mails), ``TRUSTED_PROXIES``,
``RATELIMIT_SUBMISSIONS``, ``RATELIMIT_LOGIN``, ``RATELIMIT_LOGIN_IP`` and ``SESSION_HOURS``;
the personal-data settings ``DRAFT_DAYS``, ``RETENTION_DAYS``, ``AUDIT_DAYS``,
``IMPRINT_URL``, ``PRIVACY_URL`` and ``COORDINATORS_MAY_ERASE`` (docs/administrators.md).
``FORMFLOW_INSTANCE`` becomes
``app.instance_path`` (and ``INSTANCE_PATH``). ``FORMS_DIR``/``WORKFLOWS_DIR`` point at the
shipped definitions.

Reading the environment is kept apart from the app factory so that ``create_app`` can decide the
instance folder before Flask is constructed, and so that the rules (production needs a real
secret key) are checked in one place, before anything starts serving.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from limits import parse_many

from engine.services.audit import DEFAULT_AUDIT_DAYS
from engine.services.retention import DEFAULT_DRAFT_DAYS
from web.embedding import parse_origins

__all__ = [
    "DEFAULT_TIMEZONE",
    "ENVIRONMENTS",
    "PROJECT_ROOT",
    "SECRET_KEY_FILE",
    "ConfigError",
    "check_settings",
    "retention_settings",
    "instance_path_from",
    "load_or_create_secret_key",
    "make_private_folder",
    "settings_from_environment",
]

ENVIRONMENTS = ("development", "production")
SQLITE_SYNCHRONOUS = ("full", "normal")
SECRET_KEY_FILE = "secret_key"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
"""The checkout the package runs from: where the shipped ``forms/`` and ``workflows/`` live."""

DEFAULT_BASE_URL = "http://127.0.0.1:5000"
DEFAULT_TIMEZONE = "Europe/Berlin"
DEFAULT_SESSION_HOURS = 12
"""How long a staff sign-in lasts, whatever the user does meanwhile."""
RATE_LIMIT_SETTINGS = ("RATELIMIT_SUBMISSIONS", "RATELIMIT_LOGIN", "RATELIMIT_LOGIN_IP")
"""Rate limits an operator may set (``FORMFLOW_RATELIMIT_…``); defaults in web.limits and
web.auth."""
SQLITE_FILE = "formflow.sqlite3"
LEGAL_URLS = ("IMPRINT_URL", "PRIVACY_URL")
"""The Impressum and the Datenschutzerklärung: linked from every page, required in production."""


log = logging.getLogger(__name__)


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
    settings["TRUSTED_PROXIES"] = _number(environ, "FORMFLOW_TRUSTED_PROXIES", "0", int)
    try:
        settings["EMBED_ORIGINS"] = parse_origins(environ.get("FORMFLOW_EMBED_ORIGINS"))
    except ValueError as exc:
        raise ConfigError(
            f"FORMFLOW_EMBED_ORIGINS lists origins such as https://verein.example, separated "
            f"by commas; {str(exc)!r} is not one."
        ) from None
    settings["MAX_UPLOAD_MB"] = _number(environ, "FORMFLOW_MAX_UPLOAD_MB", "10", float)
    settings["MAX_SUBMISSION_MB"] = _number(environ, "FORMFLOW_MAX_SUBMISSION_MB", "25", float)
    settings["SESSION_HOURS"] = _number(
        environ, "FORMFLOW_SESSION_HOURS", str(DEFAULT_SESSION_HOURS), float
    )
    for name in RATE_LIMIT_SETTINGS:
        value = (environ.get(f"FORMFLOW_{name}") or "").strip()
        if value:  # unset: the default of the module that applies the limit
            settings[name] = value
    settings["DRAFT_DAYS"] = _number(environ, "FORMFLOW_DRAFT_DAYS", str(DEFAULT_DRAFT_DAYS), float)
    settings["AUDIT_DAYS"] = _number(environ, "FORMFLOW_AUDIT_DAYS", str(DEFAULT_AUDIT_DAYS), int)
    retention = (environ.get("FORMFLOW_RETENTION_DAYS") or "").strip()
    settings["RETENTION_DAYS"] = (
        _number(environ, "FORMFLOW_RETENTION_DAYS", retention, int) if retention else None
    )
    for name in LEGAL_URLS:
        settings[name] = (environ.get(f"FORMFLOW_{name}") or "").strip() or None
    settings["COORDINATORS_MAY_ERASE"] = (
        (environ.get("FORMFLOW_COORDINATORS_MAY_ERASE") or "").strip().lower()
        in ("1", "true", "yes", "on")
    )
    secret = environ.get("FORMFLOW_SECRET_KEY")
    if secret:
        settings["SECRET_KEY"] = secret
    return settings


def _number(
    environ: Mapping[str, str], name: str, default: str, kind: type[int] | type[float]
) -> int | float:
    raw = (environ.get(name) or "").strip() or default
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}.") from None


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
    proxies = config.get("TRUSTED_PROXIES", 0)
    if not isinstance(proxies, int) or isinstance(proxies, bool) or proxies < 0:
        raise ConfigError(
            "FORMFLOW_TRUSTED_PROXIES must be the number of reverse proxies in front of the "
            f"app (0 when its port is published directly), not {proxies!r}."
        )
    hours = config.get("SESSION_HOURS", DEFAULT_SESSION_HOURS)
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not 0 < hours <= 24 * 366:
        raise ConfigError(
            f"FORMFLOW_SESSION_HOURS must be a positive number of hours, not {hours!r}."
        )
    for name in ("MAX_UPLOAD_MB", "MAX_SUBMISSION_MB"):
        megabytes = config.get(name, 1)
        if isinstance(megabytes, bool) or not isinstance(megabytes, int | float) or not (
                0 < megabytes <= 10_000):
            raise ConfigError(f"FORMFLOW_{name} must be a positive number of megabytes, "
                              f"not {megabytes!r}.")
    for name in RATE_LIMIT_SETTINGS:
        limit = config.get(name)
        if limit is not None and not _is_rate_limit(limit):
            raise ConfigError(
                f"FORMFLOW_{name} must be a rate limit such as '10 per minute', not {limit!r}."
            )
    _check_days(config, "DRAFT_DAYS", DEFAULT_DRAFT_DAYS, minimum=0, whole=False)
    _check_days(config, "AUDIT_DAYS", DEFAULT_AUDIT_DAYS, minimum=1, whole=True)
    if config.get("RETENTION_DAYS") is not None:
        _check_days(config, "RETENTION_DAYS", None, minimum=1, whole=True)
    for name in LEGAL_URLS:
        url = config.get(name)
        if url is not None and not _is_page_address(url):
            raise ConfigError(
                f"FORMFLOW_{name} must be an http(s) address or a path starting with '/', "
                f"not {url!r}."
            )
    if env == "production" and not config.get("SECRET_KEY"):
        raise ConfigError(
            "FORMFLOW_SECRET_KEY must be set when FORMFLOW_ENV=production "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    if env == "production":
        missing = [f"FORMFLOW_{name}" for name in LEGAL_URLS if not config.get(name)]
        if missing:
            raise ConfigError(
                f"{' and '.join(missing)} must be set when FORMFLOW_ENV=production: German "
                "sites link their Impressum and Datenschutzerklärung from every page."
            )


def _check_days(
    config: Mapping[str, Any], name: str, default: float | None, *, minimum: int, whole: bool
) -> None:
    value = config.get(name, default)
    kinds: tuple[type, ...] = (int,) if whole else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or not (
            minimum <= value < 100_000):
        unit = "whole number of days" if whole else "number of days"
        raise ConfigError(f"FORMFLOW_{name} must be a {unit} ≥ {minimum}, not {value!r}.")


def _is_page_address(value: object) -> bool:
    if not isinstance(value, str) or any(c.isspace() or ord(c) < 32 for c in value):
        return False
    if value.startswith("/") and not value.startswith("//"):
        return True
    return value.startswith(("https://", "http://")) and len(value) > len("https://")


def retention_settings(config: Mapping[str, Any]) -> Any:
    """The purge's :class:`engine.services.RetentionSettings` from the app's settings."""
    from engine.services import RetentionSettings

    return RetentionSettings(
        retention_days=config.get("RETENTION_DAYS"),
        draft_days=float(config.get("DRAFT_DAYS", DEFAULT_DRAFT_DAYS)),
        audit_days=int(config.get("AUDIT_DAYS", DEFAULT_AUDIT_DAYS)),
    )


def _is_rate_limit(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return bool(parse_many(value))
    except ValueError:
        return False


def make_private_folder(path: Path) -> None:
    """Create ``path`` (and its parents) and make it 0700: the instance folder holds the
    SQLite database, the secret key, mails and the embedded Redis, none of it for others.

    A folder that is not ours to change (a mount set up by the operator) is left as it is,
    with a warning.
    """
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        if stat.S_IMODE(path.stat().st_mode) != 0o700:
            path.chmod(0o700)
    except OSError as exc:
        log.warning("cannot make %s private (mode 0700): %s", path, exc.strerror)


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
    make_private_folder(instance_path)
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
