"""A submission's personal data on its staff page: the download and the erasure.

- ``GET /inbox/<id>/personal-data.json``: everything stored about the applicant of this
  submission (every submission and draft of the same address, as ``formflow data export``;
  only this submission when its form maps no address), for an access request (DSGVO
  Art. 15, 20). Staff who may see the submission may download it; the audit log records it.
- ``POST /inbox/<id>/erase``: erase the applicant's personal data of this submission
  (Art. 17), for administrators — and coordinators when ``FORMFLOW_COORDINATORS_MAY_ERASE``
  is set. A reason is required, and the erasure happens only after a confirmation page
  (``confirmed=1``), since it cannot be undone.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.exceptions import InvalidInput, TransitionError
from engine.services import (
    erase_submission,
    export_personal_data,
    submission_data,
)
from engine.services.inbox import pinned_definitions
from engine.services.personal_data import MAX_REASON, applicant_address
from web.auth import roles_required
from web.coordinator.text import gettext as _
from web.coordinator.text import page_language
from web.coordinator.views import (
    COORDINATOR_ROLE,
    ActionForm,
    bp,
    may_erase,
    submission_or_404,
)
from web.db import get_db

__all__: list[str] = []


@bp.get("/<submission_id>/personal-data.json")
@roles_required(COORDINATOR_ROLE)
def personal_data(submission_id: str) -> ResponseReturnValue:
    record = submission_or_404(submission_id)
    db = get_db()
    forms, _workflows = pinned_definitions(db, [record])
    address = applicant_address(forms[record.form_version_row], record.answers)
    document: dict[str, Any]
    if address is not None:
        document = export_personal_data(db, address, actor=current_user.email)
    else:
        document = submission_data(db, record.id, staff=True, actor=current_user.email)
    body = json.dumps(document, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition": f'attachment; filename="{record.reference}-personal-data.json"',
        "Cache-Control": "no-store",
    })


@bp.post("/<submission_id>/erase")
@roles_required(COORDINATOR_ROLE)
def erase(submission_id: str) -> ResponseReturnValue:
    """Ask for confirmation, then erase (``confirmed=1``); the reason is required."""
    if not may_erase():
        abort(403)
    record = submission_or_404(submission_id)
    reason = request.form.get("reason", "")
    if not ActionForm().validate_on_submit():
        return _erase_page(record, reason, 400,
                           _("The form had expired; please confirm again."))
    if record.erased_at is not None:
        flash(_("The personal data of this submission was erased already."), "success")
        return redirect(url_for("coordinator.submission", submission_id=record.id), code=303)
    if not reason.strip():
        return _erase_page(record, reason, 422, _("Please give the reason for the erasure."))
    if len(reason) > MAX_REASON:
        return _erase_page(record, reason, 422, _(
            "The reason may have at most %(n)s characters.", n=MAX_REASON))
    if request.form.get("confirmed") != "1":
        return _erase_page(record, reason, 200, None)
    try:
        erase_submission(get_db(), record.id, actor=current_user.email, reason=reason)
    except (InvalidInput, TransitionError):
        return _erase_page(record, reason, 422, _(
            "The reason holds a character that cannot be stored."))
    flash(_("The personal data of %(reference)s was erased.", reference=record.reference),
          "success")
    return redirect(url_for("coordinator.submission", submission_id=record.id), code=303)


def _erase_page(record: Any, reason: str, status: int, error: str | None) -> ResponseReturnValue:
    return render_template(
        "coordinator/erase.html", lang=page_language(), submission=record, reason=reason,
        error=error, max_reason=MAX_REASON, action_form=ActionForm(),
    ), status
