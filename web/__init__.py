"""The formflow web app: an application factory in the style of the Flask tutorial.

Importing this package does nothing but define ``create_app``; every subsystem (database,
blueprints, API, mail, CLI) registers itself with an ``init_app(app)`` called from here, so a
test can build as many isolated apps as it likes.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, jsonify, request

from engine.text import localize
from web.config import (
    check_settings,
    instance_path_from,
    load_or_create_secret_key,
    settings_from_environment,
)

__all__ = ["UI_LANGUAGES", "create_app", "shipped_form_summaries", "ui_language"]

UI_LANGUAGES = ("de", "en")
"""Languages of the app's own pages; German first, as for our users."""

log = logging.getLogger(__name__)


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build a configured app.

    ``test_config`` overrides anything read from the ``FORMFLOW_*`` environment (keys as in
    ``app.config``; ``INSTANCE_PATH`` chooses the instance folder). Raises
    ``web.config.ConfigError`` when the configuration cannot work, e.g. production without
    FORMFLOW_SECRET_KEY.
    """
    instance_path = instance_path_from(os.environ, test_config)
    app = Flask(__name__, instance_path=str(instance_path), instance_relative_config=True)
    app.config.update(settings_from_environment(os.environ, instance_path))
    if test_config is not None:
        app.config.update(test_config)
    check_settings(app.config)
    instance_path.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(instance_path)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # German text stays readable

    from web import cli, db

    db.init_app(app)
    cli.init_app(app)
    from web import notify

    notify.init_app(app)  # outbox rows are enqueued after their commit; token key for mails
    from web import api, limits

    limits.init_app(app)
    api.init_app(app)
    from web import applicant, errors, i18n, security

    security.init_app(app)
    i18n.init_app(app)
    errors.init_app(app)
    applicant.init_app(app)  # the start page "/" and the applicant's pages
    from web import auth, coordinator

    auth.init_app(app)  # staff sign-in; before any blueprint that uses roles_required
    coordinator.init_app(app)
    from web import admin

    admin.init_app(app)  # forms, workflows and users in the browser (roles_required("admin"))
    _register_core_views(app)
    return app


def ui_language() -> str:
    """The page language: ``?lang=`` when supported, else the browser's choice, else German."""
    asked = request.args.get("lang", "")
    if asked in UI_LANGUAGES:
        return asked
    return request.accept_languages.best_match(UI_LANGUAGES) or UI_LANGUAGES[0]


def shipped_form_summaries(forms_dir: str | Path, language: str) -> list[dict[str, str]]:
    """Id, title and description of each definition file in ``forms_dir``, sorted by title.

    Read straight from the files (no validation) because the start page must work before any
    database exists; a file that is not readable JSON is logged and left out.
    """
    summaries = []
    for path in sorted(Path(forms_dir).glob("*.json")):
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError) as exc:
            log.warning("skipping form file %s: %s", path, exc)
            continue
        if not isinstance(data, dict):
            continue
        languages = data.get("languages") or [language]
        default = str(languages[0]) if isinstance(languages, list) and languages else language
        summaries.append(
            {
                "id": str(data.get("id", path.stem)),
                "title": _text(data.get("title"), language, default) or path.stem,
                "description": _text(data.get("description"), language, default),
            }
        )
    return sorted(summaries, key=lambda s: s["title"].casefold())


def _text(raw: Any, language: str, default_language: str) -> str:
    if isinstance(raw, str):
        return raw
    if isinstance(raw, dict):
        return localize({str(k): str(v) for k, v in raw.items()}, language, default_language)
    return ""


def _register_core_views(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")
