"""The applicant experience: start page, multi-step forms, drafts, review, submit, status.

``init_app(app)`` registers the ``applicant`` blueprint and its settings:

``DRAFT_DAYS`` (env ``FORMFLOW_DRAFT_DAYS``, default 30; read by ``web.config``)
    how long a saved draft and its resume link live after the last save (0: not kept);
    the purge deletes drafts older than that.
``RATELIMIT_APPLICANT_POSTS`` (default ``"60 per minute"``)
    POSTs per client IP across all applicant pages; the final submit also counts against
    ``RATELIMIT_SUBMISSIONS`` (``web.limits``), shared in spirit with the JSON API.

The flow is described for people in ``docs/applicants.md``.
"""

from __future__ import annotations

from flask import Flask

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    from web import db, limits
    from web.applicant import status  # noqa: F401 - its routes join the blueprint
    from web.applicant.views import bp

    db.init_app(app)  # idempotent: whoever comes first creates the app's Database
    if limits.limiter not in app.extensions.get("limiter", set()):
        limits.init_app(app)
    app.register_blueprint(bp)
