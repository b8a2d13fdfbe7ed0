"""The formflow web app: an application factory in the style of the Flask tutorial.

Importing this package does nothing but define ``create_app``; every subsystem (database,
blueprints, API, mail, CLI) registers itself with an ``init_app(app)`` called from here, so a
test can build as many isolated apps as it likes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask, jsonify
from werkzeug.middleware.proxy_fix import ProxyFix

from web.config import (
    check_settings,
    instance_path_from,
    load_or_create_secret_key,
    make_private_folder,
    settings_from_environment,
)

__all__ = ["create_app"]

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
    make_private_folder(instance_path)  # 0700: the database, keys and mails inside are private
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_or_create_secret_key(instance_path)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # German text stays readable
    _trust_proxies(app, int(app.config.get("TRUSTED_PROXIES") or 0))

    # Imported here so that importing ``web`` stays free of every subsystem's imports.
    from web import (
        access_log,
        admin,
        api,
        applicant,
        auth,
        cli,
        coordinator,
        db,
        errors,
        i18n,
        ids,
        legal,
        limits,
        notify,
        schemas,
        security,
        uploads,
    )

    access_log.init_app(app)  # tokens in URLs (status, resume links) stay out of access logs
    db.init_app(app)
    ids.init_app(app)  # the ``id`` URL converter, before the blueprints that use it
    cli.init_app(app)
    notify.init_app(app)  # outbox rows are enqueued after their commit; token key for mails
    # Before the limiter: Flask runs after-request hooks in reverse order of registration, so
    # a response gets its rate-limit headers first, then the security headers.
    uploads.init_app(app)  # before security: CSRF protection reads (and so limits) the form
    security.init_app(app)
    limits.init_app(app)
    api.init_app(app)
    i18n.init_app(app)
    legal.init_app(app)  # the footer's Impressum and Datenschutz links on every page
    errors.init_app(app)
    applicant.init_app(app)  # the start page "/" and the applicant's pages
    auth.init_app(app)  # staff sign-in; before any blueprint that uses roles_required
    coordinator.init_app(app)
    admin.init_app(app)  # forms, workflows and users in the browser (roles_required("admin"))
    schemas.init_app(app)  # /schemas/form.json and /schemas/workflow.json
    _register_core_views(app)
    return app


def _trust_proxies(app: Flask, proxies: int) -> None:
    """Behind ``proxies`` reverse proxies, take the client's address, scheme and host from
    the ``X-Forwarded-*`` headers they add (Werkzeug's ``ProxyFix``, as Flask documents).

    Rate limits are kept per client address, so without this every client behind a proxy
    shares the proxy's budget; with it set higher than the real number of proxies a client
    could choose its own address by sending ``X-Forwarded-For``. 0 (the default) trusts no
    header: right when the app's port is published directly.
    """
    if proxies > 0:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )


def _register_core_views(app: Flask) -> None:
    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok")
