"""Rate limits for anonymous endpoints (API submissions, sign-in, and whoever else needs one).

There is ONE :class:`flask_limiter.Limiter` for the process, created without an app and bound
to each app by :func:`init_app`, as Flask-Limiter documents for application factories. Views
decorate themselves with ``@limiter.limit(submission_limit)``: the limit is read from the app's
config at request time, so a test app can lower it without touching the decorator.
Operators set it with FORMFLOW_RATELIMIT_SUBMISSIONS (``web.config``).

Limits are kept per client address (``REMOTE_ADDR``). Behind a reverse proxy that address is
the proxy's unless FORMFLOW_TRUSTED_PROXIES says how many proxies to trust: ``create_app``
then wraps the app in Werkzeug's ``ProxyFix``, which takes the client's address from
``X-Forwarded-For`` — and only then, so a client cannot pick its own address otherwise.

Counters live in Redis when FORMFLOW_REDIS_URL is configured (``app.config["REDIS_URL"]``),
so that every gunicorn worker and every host share them; otherwise in process memory
(``memory://``), which is right for development and tests but counts per worker.
``RATELIMIT_STORAGE_URI`` in the app config overrides both. A Redis outage must not turn away
applicants, so storage errors are logged and the request is let through
(``RATELIMIT_SWALLOW_ERRORS``), counting in memory meanwhile
(``RATELIMIT_IN_MEMORY_FALLBACK_ENABLED``).

A refused request gets 429 with ``Retry-After`` (``RATELIMIT_HEADERS_ENABLED``); the body is
whatever the blueprint's error handler makes of it (the JSON API answers JSON).

Flask-Limiter's headers also go on every other answer of a limited route, and its
``Retry-After`` there is the later of one already set and the window's reset. A 503 (the
database blipped: retry in a few seconds) would then tell clients to wait out the window
instead. So a 503 sets its value with :func:`set_retry_after`, and an after-request hook of
this module, registered before the limiter's and therefore run after it (Flask runs them in
reverse order of registration), puts that value back.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, g
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

__all__ = [
    "DEFAULT_SUBMISSION_LIMIT",
    "init_app",
    "limiter",
    "set_retry_after",
    "submission_limit",
]

DEFAULT_SUBMISSION_LIMIT = "10 per minute"
"""Anonymous submissions per client IP: plenty for a person, little for a script."""

limiter = Limiter(key_func=get_remote_address)


def submission_limit() -> str:
    """The limit for anonymous submission endpoints, from ``RATELIMIT_SUBMISSIONS``.

    A callable (not a constant) so that each app's config decides, e.g. ``"3 per minute"`` in
    a test or ``"100000 per minute"`` in a benchmark.
    """
    return str(current_app.config.get("RATELIMIT_SUBMISSIONS") or DEFAULT_SUBMISSION_LIMIT)


def set_retry_after(response: Response, seconds: int) -> Response:
    """Give ``response`` ``Retry-After: seconds`` that the limiter's headers do not replace."""
    g.retry_after = str(int(seconds))
    response.headers["Retry-After"] = g.retry_after
    return response


def _keep_retry_after(response: Response) -> Response:
    retry_after = g.get("retry_after")
    if retry_after is not None:
        response.headers["Retry-After"] = retry_after
    return response


def init_app(app: Flask) -> None:
    """Bind the shared limiter to ``app`` (once), choosing the storage from the app's config.

    Each key is only set when the app's config does not already have it, so FORMFLOW_* based
    defaults never override what a test or an operator set explicitly.
    """
    if limiter in app.extensions.get("limiter", ()):
        return  # already bound: binding again would start the counters afresh
    config = app.config
    config.setdefault("RATELIMIT_STORAGE_URI", config.get("REDIS_URL") or "memory://")
    config.setdefault("RATELIMIT_SUBMISSIONS", DEFAULT_SUBMISSION_LIMIT)
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    # Flask-Limiter takes ENABLED with ``setdefault`` from the shared limiter's last value:
    # set it per app, so that one app that disabled limiting (e.g. a benchmark) cannot
    # disable it for the next one.
    config.setdefault("RATELIMIT_ENABLED", True)
    app.after_request(_keep_retry_after)  # before the limiter's hook, so it runs after it
    limiter.init_app(app)
