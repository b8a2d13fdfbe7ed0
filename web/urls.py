"""``url_for`` in templates, each URL built once per app.

Every page builds the same handful of URLs — the stylesheet, the icon, the scripts, the home
link, the step's form action — and Werkzeug builds each anew (rule lookup, converters,
quoting: ~25 µs apiece, about 3 % of a step page). A relative URL depends only on the
endpoint, its values and the script root, so the templates' ``url_for`` keeps what it built.

Only what cannot differ between requests is kept: endpoints named in full (not ``.name``,
which depends on the request's blueprint), values that are plain strings or integers, none
of ``_external``/``_anchor``/``_method``/``_scheme``, in a request (outside one, Flask builds
external URLs); and nothing at all if the app has URL defaults or host or subdomain matching
(which could make a URL depend on the request). Views keep Flask's ``url_for``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, has_request_context
from flask.globals import request_ctx

from web.context import this_app, this_request

__all__ = ["external_token_url", "init_app", "path_with_value", "template_url_for"]

_CACHE_KEY = "formflow_template_urls"
_MAX_URLS = 4096
"""URLs kept per app at most (then forgotten at once): a few per page and form step."""


@dataclass
class _Urls:
    usable: bool
    """False when the app's URLs may depend on the request beyond its script root."""
    built: dict[tuple[Any, ...], str] = field(default_factory=dict)


def init_app(app: Flask) -> None:
    app.jinja_env.globals["url_for"] = template_url_for


def _urls(app: Flask) -> _Urls:
    urls: _Urls | None = app.extensions.get(_CACHE_KEY)
    if urls is None:
        usable = not (
            app.url_map.host_matching
            or app.subdomain_matching
            or any(app.url_default_functions.values())
        )
        urls = app.extensions[_CACHE_KEY] = _Urls(usable)
    return urls


def template_url_for(endpoint: str, /, **values: Any) -> str:
    """Flask's ``url_for``, the same URL, kept per (script root, endpoint, values)."""
    app = this_app()
    urls = _urls(app)
    if not urls.usable or endpoint[:1] == "." or not has_request_context() or not all(
        name[:1] != "_" and type(value) in (str, int) for name, value in values.items()
    ):
        return str(app.url_for(endpoint, **values))
    key = (this_request().script_root, endpoint, *values.items())
    found = urls.built.get(key)
    if found is None:
        if len(urls.built) >= _MAX_URLS:
            urls.built.clear()
        found = urls.built[key] = str(app.url_for(endpoint, **values))
    return found


_TOKEN_MARKER = "formflowtokenmarker"
_URL_SAFE = re.compile(r"[A-Za-z0-9_-]+")
"""What Werkzeug puts into a path unquoted; ids and ``secrets.token_urlsafe`` write nothing else."""


def external_token_url(endpoint: str, name: str, token: str) -> str:
    """``url_for(endpoint, **{name: token}, _external=True)`` in a request — the same URL.

    Such a link (the resume link on every page with a draft) differs per token, so it cannot
    be kept; what comes before and after the token can, per scheme, host and script root
    (the request's URL adapter), and the token goes in between.
    """
    app = this_app()
    adapter = getattr(request_ctx, "url_adapter", None) if has_request_context() else None

    def build(value: str) -> str:
        return str(app.url_for(endpoint, **{name: value}, _external=True))

    if adapter is None:
        return build(token)
    key = ("external", adapter.url_scheme, adapter.server_name, adapter.script_name,
           endpoint, name)
    return _around_value(app, key, endpoint, build, token)


def path_with_value(endpoint: str, name: str, value: str) -> str:
    """``url_for(endpoint, **{name: value})`` without the script root, in a request — the
    same path, for a one-value rule (an API resource, a secret link under ``BASE_URL``).

    The path around the value is kept per endpoint; the value goes in between.
    """
    app = this_app()
    script_root = this_request().script_root

    def build(value: str) -> str:
        return str(app.url_for(endpoint, **{name: value})).removeprefix(script_root)

    return _around_value(app, ("path", endpoint, name), endpoint, build, value)


def _around_value(
    app: Flask, key: tuple[Any, ...], endpoint: str, build: Callable[[str], str], value: str
) -> str:
    """``build(value)``, from what ``build`` wrote around a marker, kept under ``key``.

    Values with characters Werkzeug would quote, endpoints named relative to the blueprint
    and apps whose URLs may depend on more of the request are built by Flask every time.
    """
    urls = _urls(app)
    if not urls.usable or endpoint[:1] == "." or not _URL_SAFE.fullmatch(value):
        return build(value)
    found = urls.built.get(key)
    if found is None:
        built = build(_TOKEN_MARKER)
        if built.count(_TOKEN_MARKER) != 1:
            return build(value)
        if len(urls.built) >= _MAX_URLS:
            urls.built.clear()
        found = urls.built[key] = built
    before, _, after = found.partition(_TOKEN_MARKER)
    return f"{before}{value}{after}"
