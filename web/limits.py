"""Rate limits for anonymous endpoints (API submissions, and whoever else needs one).

There is ONE :class:`flask_limiter.Limiter` for the process, created without an app and bound
to each app by :func:`init_app`, Flask-extension style. Views decorate themselves with
``@limiter.limit(submission_limit)``: the limit is read from the app's config at request time,
so a test app can lower it without touching the decorator.

Counters live in Redis when FORMFLOW_REDIS_URL is configured (``app.config["REDIS_URL"]``),
so that every gunicorn worker and every host share them; otherwise in process memory, which
is right for development and tests but counts per worker. ``RATELIMIT_STORAGE_URI`` in the
app config overrides both. A Redis outage must not turn away applicants, so storage errors
are logged and the request is let through (``RATELIMIT_SWALLOW_ERRORS``) with an in-memory
fallback meanwhile.

A refused request gets 429 with ``Retry-After`` (``RATELIMIT_HEADERS_ENABLED``); the body is
whatever the blueprint's error handler makes of it (the JSON API answers JSON).

The JSON API's submissions use :func:`per_address_limit` instead of ``@limiter.limit``: the
same limit, counters, answers and headers, through the same limiter's storage, without
Flask-Limiter's per-request bookkeeping (it was a sixth of that request's CPU).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import lru_cache, partial, wraps
from typing import Any, TypeVar

from flask import Flask, Response, current_app
from flask.globals import request_ctx
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import STRATEGIES, FixedWindowRateLimiter, RateLimiter
from werkzeug.exceptions import TooManyRequests
from werkzeug.http import parse_date

from web.context import this_app, this_request

__all__ = [
    "DEFAULT_SUBMISSION_LIMIT",
    "init_app",
    "limiter",
    "per_address_limit",
    "submission_limit",
]

log = logging.getLogger(__name__)

DEFAULT_SUBMISSION_LIMIT = "10 per minute"
"""Anonymous submissions per client IP: plenty for a person, little for a script."""

limiter = Limiter(key_func=get_remote_address)


def submission_limit() -> str:
    """The limit for anonymous submission endpoints, from ``RATELIMIT_SUBMISSIONS``.

    A callable (not a constant) so that each app's config decides, e.g. ``"3 per minute"`` in
    a test or ``"100000 per minute"`` in a benchmark.
    """
    return str(this_app().config.get("RATELIMIT_SUBMISSIONS") or DEFAULT_SUBMISSION_LIMIT)


def init_app(app: Flask) -> None:
    """Bind the shared limiter to ``app``, choosing the storage from the app's config.

    Each key is only set when the app's config does not already have it, so FORMFLOW_* based
    defaults never override what a test or an operator set explicitly.
    """
    config = app.config
    config.setdefault("RATELIMIT_STORAGE_URI", config.get("REDIS_URL") or "memory://")
    config.setdefault("RATELIMIT_SUBMISSIONS", DEFAULT_SUBMISSION_LIMIT)
    config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    config.setdefault("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
    # Flask-Limiter copies ENABLED into the shared object with setdefault: set it per app so
    # one app that disabled limiting (e.g. a benchmark) cannot disable it for the next one.
    config.setdefault("RATELIMIT_ENABLED", True)
    limiter.enabled = bool(config["RATELIMIT_ENABLED"])
    limiter.init_app(app)
    if not any(config.get(key) for key in APP_WIDE_LIMITS):
        _skip_app_wide_check(app)
    _skip_idle_hooks(app)


APP_WIDE_LIMITS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION", "RATELIMIT_META")
"""Settings that give Flask-Limiter limits for every request (none are set by formflow)."""


def _skip_app_wide_check(app: Flask) -> None:
    """Drop the limiter's check that runs before EVERY request, when it cannot find anything.

    formflow's limits are all per view (``@limiter.limit``/``shared_limit``, checked by the
    decorators); the app-wide hook only applies default, application and meta limits, and
    with none configured it merely resolves an empty set — a noticeable share of a small
    request's CPU. Configuring any of them keeps the hook.
    """
    hooks = app.before_request_funcs.get(None, [])
    app.before_request_funcs[None] = [
        hook for hook in hooks if hook != limiter._check_request_limit  # noqa: SLF001
    ]


_LIMITER_CONTEXT_ATTR = "_limiter_request_context"
"""Where Flask-Limiter keeps its per-request state on the request context, created by its
``context`` property the first time a request needs it (a limit checked or deducted)."""


def _skip_idle_hooks(app: Flask) -> None:
    """Run the limiter's after-request and teardown hooks only for requests that used it.

    Both hooks work on the limiter's per-request state: the after-request hook deducts the
    conditional costs and adds the headers of the limit this request was checked against, the
    teardown clears that state. A request no limit looked at (every GET of the applicant
    pages) has none, and the hooks would only create it empty to find nothing to do — a
    percent of a small request's CPU. Wrapped once per app; the same hooks run otherwise.
    """
    inject = getattr(Limiter, "_Limiter__inject_headers", None)
    after = app.after_request_funcs.get(None, [])
    for i, hook in enumerate(after):
        if isinstance(hook, partial) and hook.func is inject and hook.args == (limiter,):
            after[i] = _when_limiter_used(hook, idle=lambda response: response)
    release = getattr(limiter, "_Limiter__release_context", None)
    teardown = app.teardown_request_funcs.get(None, [])
    for i, hook in enumerate(teardown):
        if release is not None and hook == release:
            teardown[i] = _when_limiter_used(hook, idle=lambda _exc=None: None)


def _when_limiter_used(hook: Callable[..., Any], idle: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(hook)
    def run(arg: Any = None) -> Any:
        # On the context itself, not through the ``request_ctx`` proxy: ``hasattr`` on the
        # proxy pays for the proxy's lookup and an AttributeError on every idle request.
        context = request_ctx._get_current_object()  # type: ignore[attr-defined]
        if getattr(context, _LIMITER_CONTEXT_ATTR, None) is not None:
            return hook(arg)
        return idle(arg)

    return run


# -- a per-address limit for one hot view, without Flask-Limiter's per-request machinery ----

View = TypeVar("View", bound=Callable[..., Any])

FALLBACK_SECONDS = 30.0
"""How long a view limited by :func:`per_address_limit` counts in memory after the configured
storage (Redis) failed, before it tries that storage again."""


def per_address_limit(limit_value: Callable[[], str]) -> Callable[[View], View]:
    """What ``@limiter.limit(limit_value)`` does for a view, at a fraction of its CPU.

    Flask-Limiter resolves, filters and wraps every limit anew on each request (and reads the
    window twice for the headers); for the API's submissions that was a sixth of the whole
    request. This decorator makes the same decisions with the shared limiter's strategy and
    storage (``limiter.limiter``) and the same counter keys (client address, endpoint, the
    app's ``RATELIMIT_KEY_PREFIX``), so counts are shared with any process still using the
    decorator: the first limit breached answers 429 (its text in the description), and every
    answer carries ``X-RateLimit-Limit``/``-Remaining``/``-Reset`` and ``Retry-After`` of the
    most relevant limit when ``RATELIMIT_HEADERS_ENABLED``. A storage failure is logged and
    the view counts in process memory for :data:`FALLBACK_SECONDS` (applicants are never
    turned away because Redis is down).
    """

    def decorate(view: View) -> View:
        @wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            app = this_app()  # read once: each proxy read costs a context lookup
            config = app.config
            if not limiter.enabled or not config.get("RATELIMIT_ENABLED", True):
                return view(*args, **kwargs)
            current = this_request()
            # ``get_remote_address()`` and the endpoint, as Flask-Limiter keys its counters
            identifiers = [current.remote_addr or "127.0.0.1", current.endpoint or ""]
            if prefix := config.get("RATELIMIT_KEY_PREFIX"):
                identifiers.insert(0, str(prefix))
            try:
                items = _parsed(limit_value())
            except ValueError as exc:  # as Flask-Limiter: a broken setting limits nothing
                log.error("failed to load ratelimit for %s: %s", current.endpoint, exc)
                return view(*args, **kwargs)
            strategy, shown, breached = _counted(items, identifiers)
            # Errors become responses here (as Flask's dispatch would make them), so that
            # every answer of the view carries the headers, as with Flask-Limiter.
            try:
                if breached:
                    raise TooManyRequests(description=str(shown))
                result = view(*args, **kwargs)
            except Exception as exc:
                result = app.handle_user_exception(exc)
            response = app.make_response(result)  # what ``flask.make_response`` calls
            if shown is not None and config.get("RATELIMIT_HEADERS_ENABLED"):
                _add_headers(response, strategy, shown, identifiers)
            return response

        return limited  # type: ignore[return-value]

    return decorate


@lru_cache(maxsize=64)
def _parsed(value: str) -> tuple[RateLimitItem, ...]:
    return tuple(sorted(parse_many(value)))


def _counted(
    items: tuple[RateLimitItem, ...], identifiers: list[str]
) -> tuple[RateLimiter, RateLimitItem | None, bool]:
    """Count one hit on every limit, smallest first, up to the first one breached.

    Returns the strategy that counted, the limit the answer describes (the breached one,
    else the smallest) and whether it was breached.
    """
    strategy = _fallback.strategy() or _in_memory.strategy(limiter.limiter)
    for item in items:
        try:
            allowed = strategy.hit(item, *identifiers)
        except Exception:
            log.warning("rate limit storage unreachable: counting in memory for %.0f s",
                        FALLBACK_SECONDS, exc_info=True)
            strategy = _fallback.start()
            allowed = strategy.hit(item, *identifiers)
        if not allowed:
            return strategy, item, True
    return strategy, items[0] if items else None, False


def _add_headers(
    response: Response, strategy: RateLimiter, item: RateLimitItem, identifiers: list[str]
) -> None:
    try:
        reset_at, remaining = _window_stats(strategy, item, identifiers)
    except Exception:
        log.warning("rate limit storage unreachable: no rate limit headers", exc_info=True)
        return
    reset = int(reset_at + 1)
    headers = response.headers
    # Found by a scan rather than ``headers.get``: a header that is absent (the usual case)
    # costs ``get`` an HTTP exception object built and caught.
    existing = next((v for k, v in headers if k.lower() == "retry-after"), None)
    headers.add("X-RateLimit-Limit", str(item.amount))
    headers.add("X-RateLimit-Remaining", str(remaining))
    headers.add("X-RateLimit-Reset", str(reset))
    retry_at = reset
    if existing is not None:  # e.g. a 503's: the later wins
        moment = parse_date(existing)
        later = moment.timestamp() if moment is not None else time.time() + int(existing)
        retry_at = max(int(later), reset)
    headers["Retry-After"] = str(int(retry_at - time.time()))


def _window_stats(
    strategy: RateLimiter, item: RateLimitItem, identifiers: list[str]
) -> tuple[float, int]:
    """``strategy.get_window_stats(item, *identifiers)``; for the fixed window (the default)
    the same two storage reads with the counter's key built once instead of twice."""
    if type(strategy) is not FixedWindowRateLimiter:
        reset_at, remaining = strategy.get_window_stats(item, *identifiers)
        return reset_at, remaining
    storage = strategy.storage
    key = item.key_for(*identifiers)
    remaining = max(0, item.amount - storage.get(key))
    return storage.get_expiry(key), remaining


class _Fallback:
    """In-memory counting while the configured storage is failing (per process)."""

    def __init__(self) -> None:
        self._until = 0.0
        self._strategy: RateLimiter | None = None

    def strategy(self) -> RateLimiter | None:
        if self._strategy is not None and time.monotonic() < self._until:
            return self._strategy
        return None

    def start(self) -> RateLimiter:
        if self._strategy is None:
            name = str(current_app.config.get("RATELIMIT_STRATEGY") or "fixed-window")
            self._strategy = STRATEGIES[name](QuietMemoryStorage())
        self._until = time.monotonic() + FALLBACK_SECONDS
        return self._strategy


_fallback = _Fallback()


class QuietMemoryStorage(MemoryStorage):
    """``limits``' in-process counters, without the expiry thread on the fixed-window path.

    ``MemoryStorage.incr`` starts a ``threading.Timer`` whenever the previous one (10 ms) has
    finished, to drop expired counters: in a busy worker a new thread every few requests,
    each started while the request waits for it. An expired counter is dropped anyway when it
    is next read (``get``), so here the others are swept inline, at most once a minute.
    """

    SWEEP_SECONDS = 60.0

    def __init__(self, uri: str | None = None, **options: Any) -> None:
        super().__init__(uri, **options)
        self._swept_at = time.monotonic()

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        self.get(key)  # drops the counter when its window is over
        with self.locks[key]:
            self.storage[key] += amount
            if self.storage[key] == amount:
                self.expirations[key] = time.time() + expiry
        if time.monotonic() - self._swept_at > self.SWEEP_SECONDS:
            self._swept_at = time.monotonic()
            now = time.time()
            for stale, until in list(self.expirations.items()):
                if until <= now:
                    self.get(stale)
        return self.storage.get(key, 0)


class _InMemory:
    """The fixed-window strategy on a :class:`QuietMemoryStorage`, in place of the limiter's
    own when that counts in this process's memory (``memory://``: development, tests and
    benchmarks; production counts in Redis and is left alone). One per limiter storage, i.e.
    per app bound to the limiter, so a new app starts with fresh counts as before."""

    def __init__(self) -> None:
        self._for: tuple[object, RateLimiter] | None = None
        self._lock = threading.Lock()

    def strategy(self, configured: RateLimiter) -> RateLimiter:
        made = self._for
        if made is not None and made[0] is configured:
            return made[1]
        with self._lock:  # one replacement, or threads would count apart
            made = self._for
            if made is not None and made[0] is configured:
                return made[1]
            return self._replace(configured)

    def _replace(self, configured: RateLimiter) -> RateLimiter:
        if type(configured) is FixedWindowRateLimiter and type(configured.storage) is (
            MemoryStorage
        ):
            replacement: RateLimiter = FixedWindowRateLimiter(QuietMemoryStorage())
        else:
            replacement = configured
        self._for = (configured, replacement)
        return replacement


_in_memory = _InMemory()
