"""The coordinator pages: ``/inbox`` (list, filters, bulk actions, saved views, exports) and
``/inbox/<id>`` (one submission).

Every change goes through the services — ``fire_transition`` for transitions (role, state,
guard, comment policy, optimistic concurrency, notifications), ``add_comment`` for internal
notes, ``assign_submission`` for assignment, ``bulk_transition``/``bulk_assign`` for several at
once, ``save_view``/``delete_view`` for saved filters — so these views never write anything
themselves.

The action form has two texts: ``comment``, the message to the applicant (sent with a
transition only), and ``note``, internal. "Note only" saves the note without a transition.

A refused action re-renders the submission page with a plain message and both texts exactly
as they were typed (409 when someone else was faster or the state no longer allows it, 422 when a
comment is missing or not allowed, 403 when the role may not): a coordinator never loses what
they wrote and never sees a stack trace.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError

from engine.exceptions import (
    CommentInvalid,
    CommentNotAllowed,
    CommentRequired,
    GuardFailed,
    InvalidInput,
    NotFound,
    RoleNotAllowed,
    StaleState,
    StorageUnavailable,
    SubmissionInvalid,
    TransitionError,
    TransitionNotAllowed,
    UnknownTransition,
)
from engine.records import SubmissionRecord
from engine.services import (
    MAX_COMMENT_LENGTH,
    add_comment,
    checked_comment,
    file_chunks,
    fire_transition,
    get_submission,
    list_published,
    submission_file,
    transitions_for,
)
from engine.services.inbox import (
    DEFAULT_COUNT_CAP,
    assign_submission,
    assignable_users,
    encode_position,
    inbox_page,
    pinned_definitions,
    saved_views,
    state_ages,
)
from engine.services.loading import form_of, workflow_of
from engine.text import localize
from web.auth import roles_required
from web.coordinator.presenting import (
    FilterForm,
    format_datetime,
    parse_filters,
    state_label,
    submission_view,
    transition_label,
)
from web.coordinator.text import gettext as _
from web.coordinator.text import page_language
from web.db import get_db
from web.errors import error_page
from web.i18n import display_zone
from web.ids import parse_id
from web.uploads import download_response

__all__ = ["COORDINATOR_ROLE", "ActionForm", "bp", "filter_choices", "may_erase", "render_inbox",
           "submission_or_404"]

COORDINATOR_ROLE = "coordinator"

bp = Blueprint("coordinator", __name__, url_prefix="/inbox")


class ActionForm(FlaskForm):  # type: ignore[misc]
    """CSRF only: the fields are read from ``request.form`` so that nothing typed is lost."""


# -- the inbox -----------------------------------------------------------------------------


@bp.get("")
@roles_required(COORDINATOR_ROLE)
def inbox() -> ResponseReturnValue:
    return render_inbox(parse_filters(request.args, current_user.id))


def render_inbox(
    filters: FilterForm,
    *,
    status: int = 200,
    error: str | None = None,
    summary: list[dict[str, Any]] | None = None,
    selected: frozenset[str] = frozenset(),
    comment: str = "",
    chosen: str = "",
) -> ResponseReturnValue:
    db = get_db()
    language = page_language()
    page = inbox_page(db, filters.where, before=filters.before, after=filters.after,
                      count_cap=int(current_app.config.get("INBOX_COUNT_CAP", DEFAULT_COUNT_CAP)))
    forms, workflows = pinned_definitions(db, page.submissions)
    users = assignable_users(db)
    emails = {u.id: u.email for u in users}
    zone = display_zone()
    ages = state_ages(db, page.submissions, workflows, datetime.now(zone).date(), zone)
    rows = []
    for submission in page.submissions:
        form = forms[submission.form_version_row]
        workflow = workflows[submission.workflow_version_row]
        rows.append({
            "id": submission.id,
            "reference": submission.reference,
            "form": localize(form.title, language, form.default_language) or form.id,
            "form_version": submission.form_version,
            "applicant": _applicant_name(form, submission),
            "state": state_label(workflow, submission.state, language),
            "created": format_datetime(submission.created_at, language),
            "created_iso": submission.created_at.isoformat(),
            "assigned": emails.get(submission.assigned_to) if submission.assigned_to else None,
            "age": ages[submission.id],
        })
    form_choices, state_choices = filter_choices(language, filters.form or None)
    return render_template(
        "coordinator/inbox.html",
        lang=language,
        filters=filters,
        rows=rows,
        counts=_counts(page.counts, page.capped, state_choices, language),
        total=_number(sum(page.counts.values()), bool(page.capped), language),
        form_choices=form_choices,
        state_choices=state_choices,
        newer=encode_position(page.newer) if page.newer else None,
        older=encode_position(page.older) if page.older else None,
        bulk_transitions=bulk_transition_choices(language),
        users=users,
        action_form=ActionForm(),
        error=error,
        summary=summary,
        selected=selected,
        comment=comment,
        chosen=chosen,
        max_comment=MAX_COMMENT_LENGTH,
        views=saved_views(db, current_user.id),
        messages=get_flashed_messages(with_categories=True),
    ), status


def _applicant_name(form: Any, submission: SubmissionRecord) -> str:
    field_id = getattr(form, "applicant_name", None)
    value = submission.answers.get(field_id) if field_id else None
    return str(value) if value else ""


def filter_choices(
    language: str, form_id: str | None = None
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Published forms and every state of the published workflows, with labels; with
    ``form_id`` only the states of that form's workflow (the counts follow the form filter)."""
    db = get_db()
    forms = []
    workflow_ids: set[str] = set()
    for record in list_published(db, "form"):
        form = form_of(db, record)
        forms.append((form.id, localize(form.title, language, form.default_language) or form.id))
        if form.id == form_id:
            workflow_ids.add(form.workflow)
    states: dict[str, str] = {}
    for record in list_published(db, "workflow"):
        workflow = workflow_of(db, record)
        if form_id is not None and workflow_ids and workflow.id not in workflow_ids:
            continue
        for state in workflow.states:
            states.setdefault(state.id, state_label(workflow, state.id, language))
    return sorted(forms, key=lambda f: f[1].casefold()), list(states.items())


def _counts(
    counts: dict[str, int], capped: frozenset[str], states: list[tuple[str, str]], language: str
) -> list[tuple[str, str, str]]:
    """(state, label, count as shown) for the published workflows' states, then any other
    state that has submissions (from older workflow versions)."""
    labels = dict(states)
    labels.update({state: state for state, n in counts.items() if n and state not in labels})
    return [
        (state, label, _number(counts.get(state, 0), state in capped, language))
        for state, label in labels.items()
    ]


def _number(value: int, at_least: bool, language: str) -> str:
    """``10.000+`` (German) / ``10,000+``: thousands grouped, ``+`` for a capped count."""
    text = f"{value:,}"
    if language == "de":
        text = text.replace(",", ".")
    return text + ("+" if at_least else "")


def bulk_transition_choices(language: str) -> list[dict[str, str]]:
    """The transitions of the published workflows, once per id, for the bulk action form."""
    db = get_db()
    found: dict[str, dict[str, str]] = {}
    for record in list_published(db, "workflow"):
        workflow = workflow_of(db, record)
        for transition in workflow.transitions:
            found.setdefault(transition.id, {
                "id": transition.id,
                "label": transition_label(workflow, transition.id, language),
                "comment": transition.comment,
                "final": "final" if any(s.id == transition.to and s.final
                                        for s in workflow.states) else "",
            })
    return list(found.values())


# -- one submission ------------------------------------------------------------------------


@bp.get("/<submission_id>")
@roles_required(COORDINATOR_ROLE)
def submission(submission_id: str) -> ResponseReturnValue:
    return _submission_page(submission_or_404(submission_id))


@bp.get("/<submission_id>/files/<file_id>")
@roles_required(COORDINATOR_ROLE)
def submission_file_download(submission_id: str, file_id: str) -> ResponseReturnValue:
    """A file of a submission, as an attachment (never shown in the browser)."""
    db = get_db()
    try:
        record = submission_file(db, submission_id, file_id)
    except NotFound:
        abort(404)
    return download_response(record, file_chunks(db, record))


@bp.post("/<submission_id>")
@roles_required(COORDINATOR_ROLE)
def act(submission_id: str) -> ResponseReturnValue:
    """Fire a transition (button ``transition``) or save only the note (``comment_only``).

    A transition into a final state is fired only with ``confirmed=1``: without it the
    confirmation page is shown (the way without JavaScript; with it, a dialog sets the field).
    """
    record = submission_or_404(submission_id)
    comment = request.form.get("comment", "")  # refused, never cut, when too long
    note = request.form.get("note", "")
    expected_state = request.form.get("expected_state") or None
    if not ActionForm().validate_on_submit():
        return _submission_page(
            record, comment=comment, note=note, status=400,
            error=_("The form had expired. Your texts are kept below; please send them again."),
        )
    db = get_db()
    transition_id = request.form.get("transition", "")
    if request.form.get("back"):
        return _submission_page(record, comment=comment, note=note)
    try:
        if request.form.get("comment_only") or not transition_id:
            if comment.strip() and not note.strip():
                # A message to the applicant only goes out with a step: never keep it
                # silently as an internal note, nor send it without one.
                return _submission_page(
                    record, comment=comment, note=note, status=422,
                    error=_("A message to the applicant is sent only with a step. Choose a "
                            "step, or write the text as an internal note."),
                )
            add_comment(db, record.id, current_user.email, note)
            flash(_("Internal note saved."), "success")
        else:
            if request.form.get("confirmed") != "1" and _is_final(
                record, transition_id, expected_state
            ):
                _precheck(record, transition_id, comment, note)
                return _confirmation_page(record, transition_id, comment, note, expected_state)
            fired = fire_transition(
                db, record.id, transition_id,
                actor=current_user.email, roles=current_user.roles,
                comment=comment, note=note, expected_state=expected_state,
            )
            _forms, workflows = pinned_definitions(db, [fired.submission])
            workflow = workflows[fired.submission.workflow_version_row]
            flash(_("“%(transition)s” done. New state: %(state)s.",
                    transition=transition_label(workflow, transition_id, page_language()),
                    state=state_label(workflow, fired.submission.state, page_language())),
                  "success")
    except (TransitionError, SubmissionInvalid) as exc:
        status, message = _refusal(exc, transition_id, record)
        return _submission_page(get_submission(db, record.id), comment=comment, note=note,
                                status=status, error=message)
    return redirect(url_for("coordinator.submission", submission_id=record.id), code=303)


def _is_final(record: SubmissionRecord, transition_id: str, expected_state: str | None) -> bool:
    """Whether firing ``transition_id`` now is a final decision to confirm first: it leads
    into a final state and the caller may fire it from the state they saw. Anything else
    (stale page, wrong role or state, unknown step) goes straight to ``fire_transition``,
    which refuses it with the usual message."""
    if expected_state is not None and expected_state != record.state:
        return False
    db = get_db()
    offered = transitions_for(db, record, current_user.roles)
    transition = next((t for t in offered if t.id == transition_id), None)
    if transition is None:
        return False
    _forms, workflows = pinned_definitions(db, [record])
    workflow = workflows[record.workflow_version_row]
    return any(s.id == transition.to and s.final for s in workflow.states)


def _precheck(record: SubmissionRecord, transition_id: str, comment: str, note: str) -> None:
    """Refuse before asking for confirmation what firing would refuse for the texts alone
    (invalid characters, too long, the comment policy), so the question is only asked when
    the answer can be "yes"; ``fire_transition`` checks everything again when confirmed."""
    checked_comment(comment)
    checked_comment(note, field="note")
    _forms, workflows = pinned_definitions(get_db(), [record])
    transition = workflows[record.workflow_version_row].transition(transition_id)
    if transition is not None and transition.comment == "required" and not comment.strip():
        raise CommentRequired(f"transition {transition_id!r} needs a comment")
    if transition is not None and transition.comment == "none" and comment.strip():
        raise CommentNotAllowed(f"transition {transition_id!r} does not take a comment")


def _confirmation_page(
    record: SubmissionRecord, transition_id: str, comment: str, note: str,
    expected_state: str | None,
) -> ResponseReturnValue:
    _forms, workflows = pinned_definitions(get_db(), [record])
    workflow = workflows[record.workflow_version_row]
    transition = workflow.transition(transition_id)
    assert transition is not None  # checked by _is_final
    language = page_language()
    return render_template(
        "coordinator/confirm.html",
        lang=language,
        submission=record,
        transition_id=transition_id,
        transition=transition_label(workflow, transition_id, language),
        to_state=state_label(workflow, transition.to, language),
        comment=comment,
        note=note,
        expected_state=expected_state or record.state,
        action_form=ActionForm(),
    )


def _refusal(exc: Exception, transition_id: str, record: SubmissionRecord) -> tuple[int, str]:
    """HTTP status and a message for a refused action, in the coordinator's words."""
    keep = _("Your texts are kept below.")
    if isinstance(exc, StaleState):
        return 409, _("Someone else has changed this submission in the meantime. Please check "
                      "its current state and decide again.") + " " + keep
    if isinstance(exc, TransitionNotAllowed | UnknownTransition):
        return 409, _("This step is not possible in the current state.") + " " + keep
    if isinstance(exc, GuardFailed):
        return 409, _("This submission does not meet the condition of this step.") + " " + keep
    if isinstance(exc, RoleNotAllowed):
        return 403, _("Your role may not take this step.") + " " + keep
    if isinstance(exc, CommentRequired):
        return 422, _("This step needs a comment.")
    if isinstance(exc, CommentNotAllowed):
        return 422, _("This step takes no comment. Remove the comment, or save it with “Comment "
                      "only”.")
    if isinstance(exc, CommentInvalid) and exc.field == "note" and exc.reason == "too_long":
        return 422, _("The internal note is too long: it may have at most %(limit)s "
                      "characters.", limit=_number(MAX_COMMENT_LENGTH, False, page_language()))
    if isinstance(exc, CommentInvalid) and exc.field == "note":
        return 422, _("The internal note contains characters that cannot be saved (control "
                      "characters or invalid code points). Please remove them.")
    if isinstance(exc, CommentInvalid) and exc.reason == "too_long":
        return 422, _("The comment is too long: it may have at most %(limit)s characters.",
                      limit=_number(MAX_COMMENT_LENGTH, False, page_language()))
    if isinstance(exc, CommentInvalid):
        return 422, _("The comment contains characters that cannot be saved (control "
                      "characters or invalid code points). Please remove them.")
    if isinstance(exc, SubmissionInvalid):
        return 422, _("Please write an internal note.")
    return 409, _("The step could not be taken.") + " " + keep


def parse_assignee(raw: str) -> int | None:
    """The person an assignment form names: ``me``, nobody (empty or ``none``) or a user id;
    ``ValueError`` for anything else."""
    if raw == "me":
        return int(current_user.id)
    if raw in ("", "none"):
        return None
    return parse_id(raw)


@bp.post("/<submission_id>/assign")
@roles_required(COORDINATOR_ROLE)
def assign(submission_id: str) -> ResponseReturnValue:
    record = submission_or_404(submission_id)
    if not ActionForm().validate_on_submit():
        return _submission_page(record, status=400,
                                error=_("The form had expired; please try again."))
    chosen = request.form.getlist("assignee")  # the "assign to me" button adds "me"
    raw = "me" if "me" in chosen else (chosen[0] if chosen else "")
    try:
        assignee = parse_assignee(raw)
    except ValueError:
        return _submission_page(record, status=422, error=_("Unknown person."))
    try:
        expected = parse_id(request.form.get("expected_assignee", ""))
    except ValueError:
        expected = None
    try:
        assign_submission(get_db(), record.id, assignee, actor=current_user.email,
                          expected_assignee=expected, check_expected=True)
    except InvalidInput:
        return _submission_page(record, status=422,
                                error=_("Only active coordinators can be assigned."))
    except StaleState:
        return _submission_page(get_submission(get_db(), record.id), status=409,
                                error=_("Someone else changed the assignment in the meantime. "
                                        "Please check the current state."))
    flash(_("Assignment saved."), "success")
    return redirect(url_for("coordinator.submission", submission_id=record.id), code=303)


@bp.errorhandler(CSRFError)
def _expired_form(_exc: CSRFError) -> ResponseReturnValue:
    """A missing or stale CSRF token (checked app-wide before the view runs): on a
    submission's page, show it again with the typed comment instead of a bare error page."""
    submission_id = (request.view_args or {}).get("submission_id")
    # The check runs before the view and so before ``roles_required``: only a coordinator
    # may see the page again; anyone else (signed out, another role) gets the plain 400.
    may_read = current_user.is_authenticated and current_user.has_role(COORDINATOR_ROLE)
    if request.method != "POST" or not submission_id or not may_read:
        return error_page(400, _exc)
    record = submission_or_404(str(submission_id))
    return _submission_page(
        record, comment=request.form.get("comment", ""), note=request.form.get("note", ""),
        status=400,
        error=_("The form had expired. Your texts are kept below; please send them again."),
    )


@bp.errorhandler(StorageUnavailable)
def _storage_unavailable(exc: StorageUnavailable) -> ResponseReturnValue:
    return error_page(503, exc)


def may_erase() -> bool:
    """Administrators may erase personal data; coordinators only when the deployment allows
    it (``FORMFLOW_COORDINATORS_MAY_ERASE``)."""
    if not current_user.is_authenticated:
        return False
    if current_user.is_admin:
        return True
    return bool(current_app.config.get("COORDINATORS_MAY_ERASE")) and current_user.has_role(
        COORDINATOR_ROLE)


def submission_or_404(submission_id: str) -> SubmissionRecord:
    if len(submission_id) > 32:
        abort(404)
    try:
        return get_submission(get_db(), submission_id)
    except NotFound:
        abort(404)


def _submission_page(
    record: SubmissionRecord, *, comment: str = "", note: str = "", status: int = 200,
    error: str | None = None,
) -> ResponseReturnValue:
    db = get_db()
    language = page_language()
    workflow, shown = submission_view(db, record, language,
                                      show_webhook_errors=current_user.is_admin)
    offered = transitions_for(db, record, current_user.roles)
    users = assignable_users(db)
    assigned = next((u.email for u in users if u.id == record.assigned_to), None)
    buttons = [
        {
            "id": t.id,
            "label": transition_label(workflow, t.id, language),
            "to": state_label(workflow, t.to, language),
            "comment": t.comment,
            "final": any(s.id == t.to and s.final for s in workflow.states),
        }
        for t in offered
    ]
    return render_template(
        "coordinator/submission.html",
        lang=language,
        **shown,
        buttons=buttons,
        comment_required=any(b["comment"] == "required" for b in buttons),
        comment=comment,
        note=note,
        max_comment=MAX_COMMENT_LENGTH,
        error=error,
        messages=get_flashed_messages(with_categories=True),
        users=users,
        assigned=assigned,
        action_form=ActionForm(),
        may_erase=may_erase(),
        erased_at=format_datetime(record.erased_at, language) if record.erased_at else None,
    ), status
