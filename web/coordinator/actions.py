"""Acting on the inbox itself: bulk actions on the selected submissions and saved views.

Both post back to the inbox's URL filters (they travel in the query string) and show the
inbox again: after a bulk action with a summary of what happened to each submission, after a
refusal with the selection and the typed message kept.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.exceptions import (
    CommentInvalid,
    CommentNotAllowed,
    CommentRequired,
    GuardFailed,
    InvalidInput,
    NotFound,
    RoleNotAllowed,
    StaleState,
    TransitionNotAllowed,
    UnknownTransition,
)
from engine.model import WorkflowDefinition
from engine.services import get_submission
from engine.services.inbox import (
    MAX_BULK,
    bulk_assign,
    bulk_transition,
    delete_view,
    pinned_definitions,
    save_view,
)
from web.auth import roles_required
from web.coordinator.presenting import parse_filters, state_label
from web.coordinator.text import gettext as _
from web.coordinator.text import page_language
from web.coordinator.views import (
    COORDINATOR_ROLE,
    ActionForm,
    bp,
    bulk_transition_choices,
    parse_assignee,
    render_inbox,
)
from web.db import get_db

__all__: list[str] = []


# -- saved views -----------------------------------------------------------------------------


@bp.post("/views")
@roles_required(COORDINATOR_ROLE)
def save_current_view() -> ResponseReturnValue:
    """Save the filters in the query string under the typed name."""
    filters = parse_filters(request.args, current_user.id)
    if not ActionForm().validate_on_submit():
        return render_inbox(filters, status=400,
                           error=_("The form had expired; please try again."))
    query = urlencode(filters.query_args())
    try:
        save_view(get_db(), current_user.id, request.form.get("name", ""), query)
    except InvalidInput as exc:
        message = (_("Give the view a name of at most 80 characters.") if exc.field == "name"
                   else _("These filters are too long to save as a view."))
        return render_inbox(filters, status=422, error=message)
    flash(_("View saved."), "success")
    return redirect(url_for("coordinator.inbox", **filters.query_args()), code=303)


@bp.post("/views/<int:view_id>/delete")
@roles_required(COORDINATOR_ROLE)
def delete_saved_view(view_id: int) -> ResponseReturnValue:
    filters = parse_filters(request.args, current_user.id)
    if not ActionForm().validate_on_submit():
        return render_inbox(filters, status=400,
                           error=_("The form had expired; please try again."))
    try:
        delete_view(get_db(), current_user.id, view_id)
    except NotFound:
        abort(404)
    flash(_("View deleted."), "success")
    return redirect(url_for("coordinator.inbox", **filters.query_args()), code=303)


# -- bulk actions ----------------------------------------------------------------------------


@bp.post("/bulk")
@roles_required(COORDINATOR_ROLE)
def bulk() -> ResponseReturnValue:
    """Fire one transition for, or assign, every selected submission (the filters travel in
    the query string so that the inbox is shown again as it was)."""
    filters = parse_filters(request.args, current_user.id)
    selected = [s for s in request.form.getlist("selected") if s][:MAX_BULK + 1]
    comment = request.form.get("comment", "")
    chosen = request.form.get("transition", "")
    keep = {"selected": frozenset(selected), "comment": comment, "chosen": chosen}
    if not ActionForm().validate_on_submit():
        return render_inbox(filters, status=400, **keep,
                           error=_("The form had expired; please try again."))
    if not selected:
        return render_inbox(filters, status=422, **keep,
                           error=_("Select at least one submission."))
    if len(selected) > MAX_BULK:
        return render_inbox(filters, status=422, **keep,
                           error=_("Select at most %(n)s submissions at once.", n=MAX_BULK))
    db = get_db()
    if request.form.get("do") == "assign":
        try:
            assignee = parse_assignee(request.form.get("assignee", ""))
        except ValueError:
            return render_inbox(filters, status=422, **keep, error=_("Unknown person."))
        outcomes = bulk_assign(db, selected, assignee, actor=current_user.email)
        done = _("Assigned")
    else:
        if not chosen:
            return render_inbox(filters, status=422, **keep, error=_("Choose a step."))
        if not comment.strip() and _needs_comment(db, selected, chosen):
            return render_inbox(
                filters, status=422, **keep,
                error=_("This step needs a message to the applicant. Write it once below; it "
                        "is sent with every selected submission."))
        final = _final_states(db, selected, chosen)
        if final and request.form.get("confirmed") != "1":
            return _bulk_confirmation(filters, selected, chosen, comment, final)
        outcomes = bulk_transition(db, selected, chosen, actor=current_user.email,
                                   roles=current_user.roles, comment=comment or None)
        done = _("Done")
    summary = [
        {"id": o.submission_id, "reference": o.reference, "ok": o.ok,
         "text": done if o.error is None else _bulk_reason(o.error)}
        for o in outcomes
    ]
    return render_inbox(filters, summary=summary)


def _workflows_of(db: Any, selected: list[str]) -> list[WorkflowDefinition]:
    """The workflow versions the selected submissions are pinned to (unknown ids left out)."""
    records = []
    for submission_id in selected:
        if len(submission_id) <= 32:
            try:
                records.append(get_submission(db, submission_id))
            except NotFound:
                continue
    _forms, workflows = pinned_definitions(db, records)
    return list(workflows.values())


def _final_states(db: Any, selected: list[str], transition_id: str) -> list[str]:
    """The final states (labels) the transition leads into for any selected submission: a
    final decision is confirmed first, for many submissions as for one."""
    language = page_language()
    labels: list[str] = []
    for workflow in _workflows_of(db, selected):
        transition = workflow.transition(transition_id)
        if transition is None or not any(s.id == transition.to and s.final
                                         for s in workflow.states):
            continue
        label = state_label(workflow, transition.to, language)
        if label not in labels:
            labels.append(label)
    return labels


def _bulk_confirmation(
    filters: Any, selected: list[str], transition_id: str, comment: str, final: list[str]
) -> ResponseReturnValue:
    """The question "take this final step for N submissions?" (without JavaScript; with it, a
    dialog on the inbox asks and sets ``confirmed``)."""
    label = next((t["label"] for t in bulk_transition_choices(page_language())
                  if t["id"] == transition_id), transition_id)
    return render_template(
        "coordinator/confirm_bulk.html",
        lang=page_language(),
        selected=selected,
        transition_id=transition_id,
        transition=label,
        states=", ".join(final),
        comment=comment,
        query=filters.query_args(),
        action_form=ActionForm(),
    )


def _needs_comment(db: Any, selected: list[str], transition_id: str) -> bool:
    """Whether the transition requires a message in the workflow of any selected submission."""
    for workflow in _workflows_of(db, selected):
        transition = workflow.transition(transition_id)
        if transition is not None and transition.comment == "required":
            return True
    return False


def _bulk_reason(exc: Exception) -> str:
    """Why a bulk action left out one submission, in the coordinator's words."""
    if isinstance(exc, NotFound):
        return _("Not found.")
    if isinstance(exc, StaleState):
        return _("Someone else changed it in the meantime.")
    if isinstance(exc, TransitionNotAllowed | UnknownTransition):
        return _("This step is not possible in its current state.")
    if isinstance(exc, GuardFailed):
        return _("It does not meet the condition of this step.")
    if isinstance(exc, RoleNotAllowed):
        return _("Your role may not take this step.")
    if isinstance(exc, CommentRequired):
        return _("This step needs a comment.")
    if isinstance(exc, CommentNotAllowed):
        return _("This step takes no comment.")
    if isinstance(exc, CommentInvalid):
        return _("The comment cannot be saved (too long or invalid characters).")
    if isinstance(exc, InvalidInput):
        return _("Only active coordinators can be assigned.")
    return _("The step could not be taken.")
