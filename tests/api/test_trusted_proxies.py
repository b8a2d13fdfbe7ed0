"""Rate limits behind the reverse proxy of docs/deploy.md (FORMFLOW_TRUSTED_PROXIES).

The test client's requests all come from 127.0.0.1, as every request does when a proxy on
the same host fronts the app; the clients behind it differ only in X-Forwarded-For.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from support.api import MEMBERSHIP_ANSWERS, Api, assert_error
from web.config import ConfigError, check_settings, settings_from_environment

URL = "/api/forms/membership/submissions"
ONE_A_MINUTE = {"RATELIMIT_SUBMISSIONS": "1 per minute"}


def _submit_from(api: Api, client_address: str) -> int:
    response = api.post(
        URL, {"answers": MEMBERSHIP_ANSWERS}, headers={"X-Forwarded-For": client_address}
    )
    return response.status_code


@pytest.mark.parametrize("api_config", [{**ONE_A_MINUTE, "TRUSTED_PROXIES": 1}])
def test_behind_a_trusted_proxy_each_client_has_its_own_budget(api: Api) -> None:
    assert _submit_from(api, "198.51.100.1") == 201
    assert _submit_from(api, "198.51.100.2") == 201  # another client: not the proxy's budget
    assert_error(
        api.post(URL, {"answers": MEMBERSHIP_ANSWERS},
                 headers={"X-Forwarded-For": "198.51.100.1"}),
        429, "rate_limited",
    )
    # A client's own X-Forwarded-For in front of the proxy's entry changes nothing: only the
    # hop the proxy appended (the last one) is trusted.
    assert _submit_from(api, "203.0.113.9, 198.51.100.2") == 429


@pytest.mark.parametrize("api_config", [{**ONE_A_MINUTE, "TRUSTED_PROXIES": 0}])
def test_without_trusted_proxies_x_forwarded_for_is_ignored(api: Api) -> None:
    assert _submit_from(api, "198.51.100.1") == 201
    # Spoofing another address does not buy a fresh budget: the peer's address counts.
    assert _submit_from(api, "198.51.100.2") == 429
    assert _submit_from(api, "198.51.100.3") == 429


def test_the_limits_and_proxies_come_from_the_environment() -> None:
    settings = settings_from_environment(
        {
            "FORMFLOW_TRUSTED_PROXIES": "2",
            "FORMFLOW_RATELIMIT_SUBMISSIONS": "20 per minute",
            "FORMFLOW_RATELIMIT_LOGIN": "3 per minute",
            "FORMFLOW_RATELIMIT_LOGIN_IP": "50 per hour",
        },
        Path("/tmp/instance"),
    )
    assert settings["TRUSTED_PROXIES"] == 2
    assert settings["RATELIMIT_SUBMISSIONS"] == "20 per minute"
    assert settings["RATELIMIT_LOGIN"] == "3 per minute"
    assert settings["RATELIMIT_LOGIN_IP"] == "50 per hour"
    check_settings(settings)
    defaults = settings_from_environment({}, Path("/tmp/instance"))
    assert defaults["TRUSTED_PROXIES"] == 0
    assert "RATELIMIT_SUBMISSIONS" not in defaults  # web.limits' default applies


@pytest.mark.parametrize("name,value", [
    ("FORMFLOW_TRUSTED_PROXIES", "one"),
    ("FORMFLOW_TRUSTED_PROXIES", "-1"),
    ("FORMFLOW_RATELIMIT_SUBMISSIONS", "lots"),
    ("FORMFLOW_RATELIMIT_LOGIN", "5 per fortnight"),
])
def test_unusable_values_are_refused_before_serving(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        check_settings(
            settings_from_environment({name: value}, Path("/tmp/i"))
        )
