"""Notifications that could not be delivered, and a button to give each another try.

Reads and retries go through the notification services: a retried row goes back to
``pending`` and is enqueued after its commit (``Database.on_outbox_committed``), exactly like a
new one, so this page needs no Redis of its own.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from engine.exceptions import InvalidInput, NotFound
from engine.services import (
    notifications_with_status,
    retry_notification,
    submission_references,
)
from web.admin.common import bp, database
from web.admin.text import gettext as _
from web.auth import roles_required

__all__: list[str] = []

SHOWN = 200
"""How many failed notifications the page lists (oldest first)."""


@bp.get("/notifications")
@roles_required("admin")
def notifications() -> ResponseReturnValue:
    db = database()
    failed = notifications_with_status(db, ["failed"], limit=SHOWN)
    return render_template("admin/notifications.html", failed=failed, shown=SHOWN,
                           references=submission_references(db, failed))


@bp.post("/notifications/<id:outbox_id>/retry")
@roles_required("admin")
def retry_notification_view(outbox_id: int) -> ResponseReturnValue:
    try:
        retry_notification(database(), outbox_id)
    except NotFound:
        abort(404)
    except InvalidInput:
        flash(_("Notification %(id)s was delivered already.", id=outbox_id), "error")
    else:
        flash(_("Notification %(id)s will be sent again.", id=outbox_id), "notice")
    return redirect(url_for("admin.notifications"))
