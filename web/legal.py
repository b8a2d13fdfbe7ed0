"""The legal pages every German site must link: Impressum and Datenschutzerklärung.

``FORMFLOW_IMPRINT_URL`` and ``FORMFLOW_PRIVACY_URL`` (``web.config``; required in
production) become the links "Impressum" and "Datenschutz" in the footer of ``base.html``,
which every page extends — applicant pages, staff pages and error pages alike. The texts
themselves belong to the operator and live wherever the operator publishes them.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    app.context_processor(_legal_links)


def _legal_links() -> dict[str, Any]:
    return {
        "imprint_url": current_app.config.get("IMPRINT_URL"),
        "privacy_url": current_app.config.get("PRIVACY_URL"),
    }
