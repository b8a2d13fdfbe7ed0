"""The coordinators' pages: the inbox across forms, a submission's page, exports.

Kept free of imports at package level so that ``web.auth`` can use ``web.coordinator.text``
without pulling in the views; :func:`init_app` registers the blueprint.
"""

from __future__ import annotations

from flask import Flask

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    from web.coordinator import actions, exports, personal_data  # noqa: F401  (routes join the bp)
    from web.coordinator.reports import bp as reports_bp
    from web.coordinator.views import bp

    app.register_blueprint(bp)
    app.register_blueprint(reports_bp)
