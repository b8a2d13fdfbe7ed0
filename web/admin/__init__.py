"""The administration: forms, workflows and users, changed in the browser without code.

``init_app(app)`` registers the blueprint (``/admin``); every view requires the ``admin`` role
(``web.auth.roles_required``), so ``web.auth`` must be set up on the app first. The views:

* ``web.admin.definitions`` — lists, import, export, new drafts, version history, diffs;
* ``web.admin.editor`` — the form and workflow editors and the JSON endpoints they call;
* ``web.admin.moves`` — moving open submissions to the published workflow version;
* ``web.admin.users`` — staff accounts and API tokens;
* ``web.admin.notifications`` — failed notifications and their "try again" button;
* ``web.admin.audit`` — the audit log of administrative actions, filtered, as CSV.

See docs/administrators.md for what the pages do and the DOM the browser tests rely on.
"""

from __future__ import annotations

from flask import Flask

__all__ = ["init_app"]


def init_app(app: Flask) -> None:
    from web.admin import (  # noqa: F401 - the views register on bp
        audit,
        definitions,
        editor,
        moves,
        notifications,
        users,
    )
    from web.admin.common import bp

    app.register_blueprint(bp)
