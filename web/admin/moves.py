"""Moving open submissions to the published version of a workflow (an admin's explicit act).

Publishing a workflow version changes nothing for the submissions already made; this page
lists the open ones still on an older version and moves the ones ticked — only those whose
state exists in the published version are offered (``engine.services.workflow_moves``).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.exceptions import NotFound
from engine.services.workflow_moves import (
    RefusalReason,
    move_submissions,
    open_on_older_versions,
)
from web.admin.common import actor, bp, database
from web.admin.text import gettext as _
from web.auth import roles_required

__all__: list[str] = []

MAX_MOVES = 1000
MAX_SUBMISSION_ID_LENGTH = 64


def _reason(reason: RefusalReason) -> str:
    return {
        "not_found": _("unknown submission"),
        "other_workflow": _("it follows another workflow"),
        "already_current": _("it is on the published version already"),
        "final": _("it is in a final state"),
        "state_missing": _("its state does not exist in the published version"),
        "changed": _("someone changed it in the meantime"),
    }[reason]


@bp.get("/workflows/<definition_id>/moves")
@roles_required("admin")
def workflow_moves(definition_id: str) -> ResponseReturnValue:
    try:
        plan = open_on_older_versions(database(), definition_id)
    except NotFound:
        abort(404)
    return render_template("admin/workflow_moves.html", kinds="workflows",
                           definition_id=definition_id, plan=plan)


@bp.post("/workflows/<definition_id>/moves")
@roles_required("admin")
def move_workflow_submissions(definition_id: str) -> ResponseReturnValue:
    chosen = request.form.getlist("submission")
    if len(chosen) > MAX_MOVES or any(len(s) > MAX_SUBMISSION_ID_LENGTH for s in chosen):
        abort(400)
    if not chosen:
        flash(_("No submission was selected."), "error")
        return redirect(url_for("admin.workflow_moves", definition_id=definition_id))
    try:
        outcome = move_submissions(database(), definition_id, chosen, actor=actor())
    except NotFound:
        abort(404)
    if outcome.moved:
        flash(_("Moved to version %(version)s: %(references)s.", version=outcome.version,
                references=", ".join(outcome.moved)), "notice")
    for reference, reason in outcome.refused:
        flash(_("Not moved: %(reference)s (%(reason)s).", reference=reference,
                reason=_reason(reason)), "error")
    return redirect(url_for("admin.workflow_moves", definition_id=definition_id))
