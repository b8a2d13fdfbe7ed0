"""The applicant experience: start page, multi-step forms, drafts, review, submit, status.

``init_app(app)`` registers the ``applicant`` blueprint and its settings:

``DRAFT_TTL_DAYS`` (env ``FORMFLOW_DRAFT_TTL_DAYS``, default 30)
    how long a saved draft and its resume link live after the last save (0: not kept).
``RATELIMIT_APPLICANT_POSTS`` (default ``"60 per minute"``)
    POSTs per client IP across all applicant pages; the final submit also counts against
    ``RATELIMIT_SUBMISSIONS`` (``web.limits``), shared in spirit with the JSON API.

The flow is described for people in ``docs/applicants.md``.
"""

from __future__ import annotations

import os

from flask import Flask

from web.config import ConfigError

__all__ = ["DEFAULT_DRAFT_TTL_DAYS", "init_app"]

DEFAULT_DRAFT_TTL_DAYS = 30


def init_app(app: Flask) -> None:
    from web import db, limits
    from web.applicant.views import bp

    app.config["DRAFT_TTL_DAYS"] = _draft_ttl_days(
        app.config.get("DRAFT_TTL_DAYS", os.environ.get("FORMFLOW_DRAFT_TTL_DAYS"))
    )
    db.init_app(app)  # idempotent: whoever comes first creates the app's Database
    if limits.limiter not in app.extensions.get("limiter", set()):
        limits.init_app(app)
    app.register_blueprint(bp)


def _draft_ttl_days(raw: object) -> float:
    if raw is None or raw == "":
        return float(DEFAULT_DRAFT_TTL_DAYS)
    try:
        days = float(str(raw))
    except ValueError:
        days = -1.0
    if not days >= 0 or days == float("inf"):
        raise ConfigError(f"FORMFLOW_DRAFT_TTL_DAYS must be a number of days ≥ 0, not {raw!r}.")
    return days
