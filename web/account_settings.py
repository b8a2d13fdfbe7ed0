"""The settings of staff sign-in beyond the basics of ``web.config``: the second factor, local
passwords and OpenID Connect single sign-on.

Read from ``FORMFLOW_*`` variables into ``app.config`` unless the app's own configuration (a
test's) already has the key, and checked at start-up, so a typo stops the app with a message
instead of silently leaving sign-in open or shut:

==============================  ================================  ===========================
variable                        ``app.config``                    default
==============================  ================================  ===========================
FORMFLOW_REQUIRE_2FA            ``REQUIRE_2FA``                   ``none`` (or admin, all)
FORMFLOW_LOCAL_LOGIN            ``LOCAL_LOGIN``                   true
FORMFLOW_OIDC_ISSUER            ``OIDC_ISSUER``                   unset: no single sign-on
FORMFLOW_OIDC_CLIENT_ID         ``OIDC_CLIENT_ID``
FORMFLOW_OIDC_CLIENT_SECRET     ``OIDC_CLIENT_SECRET``
FORMFLOW_OIDC_ROLES_CLAIM       ``OIDC_ROLES_CLAIM``              ``groups``
FORMFLOW_OIDC_ROLE_MAP          ``OIDC_ROLE_MAP``                 (``group=role,…``)
FORMFLOW_OIDC_NAME              ``OIDC_NAME``                     the issuer's host name
FORMFLOW_OIDC_SCOPES            ``OIDC_SCOPES``                   ``openid email profile``
FORMFLOW_RATELIMIT_PASSWORD_RESET     ``RATELIMIT_PASSWORD_RESET``     3 per hour (address)
FORMFLOW_RATELIMIT_PASSWORD_RESET_IP  ``RATELIMIT_PASSWORD_RESET_IP``  10 per hour (client)
==============================  ================================  ===========================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from limits import parse_many

from web.config import ConfigError

__all__ = [
    "REQUIRE_2FA_CHOICES",
    "init_app",
    "oidc_enabled",
    "parse_role_map",
    "second_factor_required",
]

REQUIRE_2FA_CHOICES = ("none", "admin", "all")
DEFAULT_RESET_LIMIT = "3 per hour"
"""Reset mails asked for one address (whoever asks): a mailbox cannot be flooded."""
DEFAULT_RESET_IP_LIMIT = "10 per hour"
"""Reset mails one client may ask for, whatever the addresses."""
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _read(environ: Mapping[str, str]) -> dict[str, Any]:
    def text(name: str) -> str:
        return (environ.get(f"FORMFLOW_{name}") or "").strip()

    return {
        "REQUIRE_2FA": text("REQUIRE_2FA").lower() or "none",
        "LOCAL_LOGIN": text("LOCAL_LOGIN").lower() or "true",
        "OIDC_ISSUER": text("OIDC_ISSUER") or None,
        "OIDC_CLIENT_ID": text("OIDC_CLIENT_ID") or None,
        "OIDC_CLIENT_SECRET": text("OIDC_CLIENT_SECRET") or None,
        "OIDC_ROLES_CLAIM": text("OIDC_ROLES_CLAIM") or "groups",
        "OIDC_ROLE_MAP": text("OIDC_ROLE_MAP"),
        "OIDC_NAME": text("OIDC_NAME") or None,
        "OIDC_SCOPES": text("OIDC_SCOPES") or "openid email profile",
        "RATELIMIT_PASSWORD_RESET": text("RATELIMIT_PASSWORD_RESET") or DEFAULT_RESET_LIMIT,
        "RATELIMIT_PASSWORD_RESET_IP": text("RATELIMIT_PASSWORD_RESET_IP")
        or DEFAULT_RESET_IP_LIMIT,
    }


def parse_role_map(value: str) -> dict[str, str]:
    """``formflow-admins=admin,formflow-team=coordinator`` as {group: role}."""
    mapping: dict[str, str] = {}
    for part in value.split(","):
        if not part.strip():
            continue
        group, sep, role = part.partition("=")
        if not sep or not group.strip() or not role.strip():
            raise ConfigError(
                "FORMFLOW_OIDC_ROLE_MAP must look like 'group=role,group=role', "
                f"not {value!r}."
            )
        mapping[group.strip()] = role.strip()
    return mapping


def _flag(name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"FORMFLOW_{name} must be true or false, not {value!r}.")


def init_app(app: Flask) -> None:
    """Fill and check the sign-in settings of ``app`` (ConfigError names what is wrong)."""
    config = app.config
    for key, value in _read(os.environ).items():
        config.setdefault(key, value)
    required = str(config["REQUIRE_2FA"]).lower()
    if required not in REQUIRE_2FA_CHOICES:
        raise ConfigError(
            f"FORMFLOW_REQUIRE_2FA must be one of {', '.join(REQUIRE_2FA_CHOICES)}, "
            f"not {config['REQUIRE_2FA']!r}."
        )
    config["REQUIRE_2FA"] = required
    config["LOCAL_LOGIN"] = _flag("LOCAL_LOGIN", config["LOCAL_LOGIN"])
    for name in ("RATELIMIT_PASSWORD_RESET", "RATELIMIT_PASSWORD_RESET_IP"):
        try:
            parse_many(str(config[name]))
        except ValueError:
            raise ConfigError(
                f"FORMFLOW_{name} must be a rate limit such as '3 per hour', "
                f"not {config[name]!r}."
            ) from None
    role_map = config["OIDC_ROLE_MAP"]
    if isinstance(role_map, str):
        config["OIDC_ROLE_MAP"] = parse_role_map(role_map)
    oidc = [config.get(k) for k in ("OIDC_ISSUER", "OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET")]
    if any(oidc) and not all(oidc):
        raise ConfigError(
            "FORMFLOW_OIDC_ISSUER, FORMFLOW_OIDC_CLIENT_ID and FORMFLOW_OIDC_CLIENT_SECRET "
            "are needed together for single sign-on."
        )
    if all(oidc):
        issuer = urlsplit(str(config["OIDC_ISSUER"]))
        if issuer.scheme not in ("https", "http") or not issuer.netloc:
            raise ConfigError(
                f"FORMFLOW_OIDC_ISSUER must be the provider's URL, not {config['OIDC_ISSUER']!r}."
            )
        config["OIDC_NAME"] = config.get("OIDC_NAME") or issuer.hostname
    elif not config["LOCAL_LOGIN"]:
        raise ConfigError(
            "FORMFLOW_LOCAL_LOGIN=false needs single sign-on (FORMFLOW_OIDC_ISSUER, …): "
            "nobody could sign in otherwise."
        )


def oidc_enabled(config: Mapping[str, Any]) -> bool:
    return bool(config.get("OIDC_ISSUER") and config.get("OIDC_CLIENT_ID")
                and config.get("OIDC_CLIENT_SECRET"))


def second_factor_required(config: Mapping[str, Any], roles: tuple[str, ...]) -> bool:
    """Whether a user with ``roles`` must have a second factor to sign in locally."""
    required = config.get("REQUIRE_2FA", "none")
    return required == "all" or (required == "admin" and "admin" in roles)
