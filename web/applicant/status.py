"""The applicant's status page (``/status/<token>``): state and history in plain words, the
files sent, and "Meine Daten herunterladen" — routes of the ``applicant`` blueprint, registered
when ``init_app`` imports this module."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, render_template
from flask_babel import format_datetime
from flask_babel import gettext as _

from engine.files import is_file_ref
from engine.services import definitions_of, history, submission_data, submission_for_token
from engine.text import Text, localize
from web.applicant.views import bp
from web.db import get_db
from web.errors import error_page
from web.i18n import current_language
from web.uploads import file_size

__all__ = ["status", "status_data"]


@bp.get("/status/<token>")
def status(token: str) -> Any:
    """The submission's state and history in plain words; the token is the only key."""
    db = get_db()
    submission = submission_for_token(db, token)
    if submission is None:
        return error_page(404)
    form, workflow = definitions_of(db, submission)
    language = current_language()

    def text(value: Text) -> str:
        return localize(value, language, form.default_language)

    def state_label(state_id: str | None) -> str:
        known = {s.id: s for s in workflow.states}
        if state_id is None or state_id not in known:
            return state_id or ""
        return text(known[state_id].label) or state_id

    events = []
    for event in history(db, submission.id):
        if event.kind not in ("created", "transition", "erased"):
            continue  # notes and assignments are internal; transition comments are for the person
        if event.kind == "erased":
            what = _("Your personal data was erased.")
        elif event.kind == "created":
            what = _("Application received – status: %(state)s", state=state_label(event.to_state))
        else:
            what = _("Status changed to: %(state)s", state=state_label(event.to_state))
        events.append(
            {
                "kind": event.kind,
                "state": event.to_state or "",
                "at": format_datetime(event.at, "medium"),
                "at_iso": event.at.isoformat(),
                "what": what,
                "comment": event.comment if event.kind == "transition" else None,
            }
        )
    erased_at = format_datetime(submission.erased_at, "medium") if submission.erased_at else None
    current_state = next((s for s in workflow.states if s.id == submission.state), None)
    return render_template(
        "applicant/status.html",
        form_title=text(form.title),
        reference=submission.reference,
        state=submission.state,
        state_label=state_label(submission.state),
        final=bool(current_state and current_state.final),
        submitted_at=format_datetime(submission.created_at, "medium"),
        events=events,
        erased_at=erased_at,
        token=token,
        files=[
            {"label": text(f.label) or f.id, "name": ref["name"], "size": file_size(ref["size"])}
            for f in form.fields() if f.is_file
            for ref in submission.answers.get(f.id) or [] if is_file_ref(ref)
        ],
    )


@bp.get("/status/<token>/data.json")
def status_data(token: str) -> Any:
    """"Meine Daten herunterladen": what the applicant may see of this submission, as JSON
    (DSGVO Art. 15, 20) — answers with labels, states, messages to them, consents, the mails
    sent to them; never internal notes or staff names."""
    db = get_db()
    submission = submission_for_token(db, token)
    if submission is None:
        return error_page(404)
    document = submission_data(db, submission.id, staff=False)
    body = json.dumps(document, ensure_ascii=False, indent=2)
    return Response(body, mimetype="application/json", headers={
        "Content-Disposition":
            f'attachment; filename="{submission.reference}-meine-daten.json"',
        "Cache-Control": "no-store",
    })
