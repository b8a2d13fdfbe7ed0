"""The applicant's pages: start page, one page per visible step, review, submit, confirmation,
save-and-resume, and the status page behind the secret link (what they load and save:
``web.applicant.work``).

Every read and write goes through ``engine.services`` (published forms, drafts, submit,
status); the engine's evaluation decides visibility, requirement and validity — the server is
authoritative, the browser script only mirrors it live. Each POST answers with a redirect
(so reloading never sends twice) except when the page must show errors (422).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any

from flask import (
    Blueprint,
    Response,
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
from flask_babel import format_datetime
from flask_babel import gettext as _

from engine.answers import convert, is_empty
from engine.evaluation import Evaluation, evaluate, row_evaluations
from engine.exceptions import (
    DraftExpired,
    FormUnavailable,
    NotFound,
    StorageUnavailable,
    SubmissionInvalid,
)
from engine.files import is_file_ref
from engine.messages import catalogue
from engine.model import Field, FormDefinition, Step
from engine.rows import rows_text
from engine.services import (
    definitions_of,
    form_version_by_hash,
    history,
    list_published,
    resume,
    submission_data,
    submission_for_token,
    submit,
)
from engine.services.loading import form_of
from engine.text import Text, forbidden_character, localize
from web.applicant import prefill
from web.applicant import session as applicant_session
from web.applicant.availability import availability_notice, current_availability, refusal_of
from web.applicant.flow import (
    apply_step,
    change_rows,
    first_step_with_errors,
    neighbour_step,
    other_steps_answers,
    progress,
    read_step,
    step_errors,
    step_of,
)
from web.applicant.forms import dom_id, number_text, step_form_class
from web.applicant.work import (
    LoadedForm,
    Work,
    definition_script,
    load_form,
    load_with_work,
    load_work,
    save_work,
)
from web.db import get_db
from web.errors import error_page
from web.i18n import UI_LANGUAGES, current_language, display_zone, long_date, remember_language
from web.limits import limiter, submission_limit
from web.uploads import file_answers, file_size, read_uploads

__all__ = ["HONEYPOT_FIELD", "applicant_post_limit", "bp"]

HONEYPOT_FIELD = "_homepage"
"""The trap for form-filling bots. Field ids start with a letter, so no form can use it."""
DEFAULT_APPLICANT_POST_LIMIT = "60 per minute"
"""POSTs per client IP on the applicant pages: a person clicks far less, a script far more."""

REVIEW_ARGS: dict[str, Any] = {"return": "review"}
"""Query of a step page opened from the review ("Ändern"): *Next* returns to the review."""

log = logging.getLogger(__name__)

bp = Blueprint("applicant", __name__)


def applicant_post_limit() -> str:
    """``RATELIMIT_APPLICANT_POSTS`` from the app's config, read per request."""
    configured = current_app.config.get("RATELIMIT_APPLICANT_POSTS")
    return str(configured or DEFAULT_APPLICANT_POST_LIMIT)


post_limit = limiter.shared_limit(applicant_post_limit, scope="applicant-posts", methods=["POST"])


def _post_limit_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """``post_limit`` for a view that also answers GET: a GET goes straight to the view.

    The limit counts POSTs only anyway; skipping the limiter's machinery on GET (filtering
    and evaluating an empty set of limits) saves time on every step page view.
    """
    limited = post_limit(view)

    @wraps(view)
    def dispatch(*args: Any, **kwargs: Any) -> Any:
        if request.method == "POST":
            return limited(*args, **kwargs)
        return view(*args, **kwargs)

    return dispatch


# -- error handling ---------------------------------------------------------------------------


@bp.errorhandler(DraftExpired)
def _draft_expired(_error: DraftExpired) -> tuple[str, int]:
    return _expired_page(), 410


@bp.errorhandler(NotFound)
def _not_found(_error: NotFound) -> Response:
    return error_page(404)


@bp.errorhandler(StorageUnavailable)
def _storage_unavailable(error: StorageUnavailable) -> Response:
    log.warning("storage unavailable for %s %s: %s", request.method, request.path, error)
    return error_page(503, error)


@bp.after_request
def _no_store(response: Response) -> Response:
    """Pages carry personal answers and secret links: never cache them."""
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def _expired_page() -> str:
    return render_template(
        "applicant/draft_expired.html", days=_ttl_days_text()
    )


def _ttl_days_text() -> str:
    days = float(current_app.config["DRAFT_DAYS"])
    return str(int(days)) if days.is_integer() else str(days)


def _check_honeypot() -> None:
    """A filled trap field means a bot: 400, nothing stored (docs/applicants.md)."""
    if request.form.get(HONEYPOT_FIELD, "").strip():
        log.info("honeypot filled on %s from %s; refused", request.path, request.remote_addr)
        abort(400)


# -- pages ------------------------------------------------------------------------------------


@bp.get("/")
def start() -> str:
    """Every published form with its title and description."""
    db = get_db()
    language = current_language()
    forms = []
    for record in list_published(db, "form"):
        form = form_of(db, record)
        forms.append(
            {
                "id": form.id,
                "title": localize(form.title, language, form.default_language) or form.id,
                "description": localize(form.description, language, form.default_language),
                "in_progress": applicant_session.draft_token(form.id) is not None,
                **_availability_entry(form),
            }
        )
    forms.sort(key=lambda f: str(f["title"]).casefold())
    return render_template("index.html", forms=forms)


@bp.get("/f/<form_id>")
def begin(form_id: str) -> ResponseReturnValue:
    """Start the form, or continue where this browser's draft left off; ``?<field>=<value>``
    fills fields that allow it (``web.applicant.prefill``)."""
    loaded = load_form(form_id)
    found = current_availability(loaded.form)
    if not found.accepts:
        return _unavailable_page(loaded, found.status, availability_notice(found) or "")
    accepted, refused = prefill.read_link(loaded.form, request.args)
    if accepted:
        prefill.remember(form_id, accepted)
    for field_id in refused:
        flash(field_id, "prefill-refused")  # worded on the next page, in its language
    loaded, work = load_with_work(form_id)
    evaluation = evaluate(loaded.compiled, work.answers, current_language())
    visible = evaluation.visible_steps
    if not visible:
        return redirect(url_for(".review", form_id=form_id))
    target = work.step if work.step in visible else visible[0]
    return redirect(url_for(".step", form_id=form_id, step_id=target))


@bp.route("/f/<form_id>/step/<step_id>", methods=["GET", "POST"])
@_post_limit_only
def step(form_id: str, step_id: str) -> Any:
    loaded, work = load_with_work(form_id)
    current = step_of(loaded.form, step_id)
    if current is None:
        abort(404)
    found = current_availability(loaded.form)
    if not found.accepts:  # closed meanwhile, or full: a draft goes no further
        return _unavailable_page(loaded, found.status, availability_notice(found) or "",
                                 status=200 if request.method == "GET" else 409)
    language = current_language()
    if request.method == "GET":
        evaluation = evaluate(loaded.compiled, work.answers, language)
        if current.id not in evaluation.visible_steps:  # the rules skip it (no-JS flow too)
            following = neighbour_step(loaded.form, evaluation.visible_steps, current.id, +1)
            if following is not None:
                return redirect(url_for(".step", form_id=form_id, step_id=following))
            return redirect(url_for(".review", form_id=form_id))
        return _render_step(
            loaded, current, work, work.answers, evaluation, {},
            returning=request.args.get("return") == "review",
        )

    _check_honeypot()
    posted = read_step(current, request.form)
    uploads, refused = read_uploads(current.fields, request.files, language)
    posted.update(file_answers(current.fields, work.answers, request.form, uploads))
    answers, evaluation = apply_step(loaded.compiled, work.answers, current, posted, language)
    action = str(request.form.get("_action") or "next")
    returning = request.form.get("_return") == "review"
    visible = evaluation.visible_steps

    # A field whose new files are refused (type, size, count) keeps its saved files only: the
    # new ones are not stored, and the page says why, whatever button was pressed.
    bad = set(refused) | {u.field_id for u in uploads if u.field_id in evaluation.errors}
    if bad:
        new_ids = {u.ref.id for u in uploads}
        for field_id in bad:
            answers[field_id] = [r for r in answers.get(field_id, []) if r["id"] not in new_ids]
        uploads = [u for u in uploads if u.field_id not in bad]
        token = save_work(loaded, work, answers, current.id, uploads=uploads).token
        work = Work(answers, token, current.id, expires_at=work.expires_at)
        errors = {f.id: [*refused.get(f.id, []), *evaluation.errors.get(f.id, [])]
                  for f in current.fields if f.id in bad}
        return _render_step(loaded, current, work, answers, evaluation, errors,
                            returning=returning, status=422)

    if action.startswith(("add_row:", "remove_row:")):  # the row buttons without JavaScript
        answers = change_rows(answers, current, action) or answers
        evaluation = evaluate(loaded.compiled, answers, language)
        token = save_work(loaded, work, answers, current.id, uploads=uploads).token
        work = Work(answers, token, current.id, expires_at=work.expires_at)
        return _render_step(loaded, current, work, answers, evaluation, {}, returning=returning)

    if action.startswith("lang:") or action == "back":
        # Neither validates, but text that can never be stored is not kept: say so on the next
        # page rather than drop it without a word.
        for field_id in _unstorable(posted):
            flash(field_id, "refused")  # worded on the next page, in its language
    if action.startswith("lang:"):  # the language switch of formflow-page.js: keep typed text
        wanted = action.split(":", 1)[1]
        save_work(loaded, work, answers, current.id, uploads=uploads)
        if wanted in UI_LANGUAGES:
            remember_language(wanted)
        back_to = REVIEW_ARGS if returning else {}
        return redirect(url_for(".step", form_id=form_id, step_id=current.id, **back_to))
    if action == "back":  # never validates, never loses answers
        previous = neighbour_step(loaded.form, visible, current.id, -1) or current.id
        save_work(loaded, work, answers, previous, uploads=uploads)
        return redirect(url_for(".step", form_id=form_id, step_id=previous))
    if action == "save":
        # A draft is not validated, but text that can never be stored is refused here as on
        # "next" (the draft would silently drop it): the page again, with the field's error.
        unstorable = _unstorable(posted)
        refused = {field_id: messages
                   for field_id, messages in step_errors(evaluation, current).items()
                   if field_id in unstorable}
        if refused:
            return _render_step(loaded, current, work, answers, evaluation, refused,
                                returning=returning, status=422)
        saved = save_work(loaded, work, answers, current.id, mail_link=True, uploads=uploads)
        if saved.link_mailed_to:
            applicant_session.remember_link_mailed(form_id, saved.link_mailed_to)
        return redirect(url_for(".saved", form_id=form_id))

    # "next": only this step's visible fields must be valid; the answers are kept either way
    errors = step_errors(evaluation, current)
    following = None if returning else neighbour_step(loaded.form, visible, current.id, +1)
    token = save_work(
        loaded, work, answers, current.id if errors else following or current.id,
        uploads=uploads,
    ).token
    if errors:
        work = Work(answers, token, current.id, expires_at=work.expires_at)
        return _render_step(loaded, current, work, answers, evaluation, errors,
                            returning=returning, status=422)
    if following is None:
        return redirect(url_for(".review", form_id=form_id))
    return redirect(url_for(".step", form_id=form_id, step_id=following))


@bp.get("/f/<form_id>/review")
def review(form_id: str) -> Any:
    loaded, work = load_with_work(form_id)
    if work.token is None:
        return redirect(url_for(".begin", form_id=form_id))
    found = current_availability(loaded.form)
    if not found.accepts:
        return _unavailable_page(loaded, found.status, availability_notice(found) or "")
    evaluation = evaluate(loaded.compiled, work.answers, current_language())
    return render_template(
        "applicant/review.html",
        availability=availability_notice(found),
        **_page_context(loaded, work),
        sections=_review_sections(loaded, work.answers, evaluation),
        summary=_summary(loaded, evaluation.errors, link_to_steps=True),
        last_step=evaluation.visible_steps[-1] if evaluation.visible_steps else None,
    )


@bp.post("/f/<form_id>/submit")
@post_limit
@limiter.limit(submission_limit, methods=["POST"])
def submit_form(form_id: str) -> Any:
    """The final submit: the engine validates everything again (authoritative), then stores."""
    loaded = load_form(form_id)
    _check_honeypot()
    work = load_work(loaded)
    if work.token is None:
        return redirect(url_for(".begin", form_id=form_id))
    language = current_language()
    try:
        created = submit(get_db(), form_id, work.answers, language, draft_token=work.token,
                         zone=display_zone())
    except FormUnavailable as unavailable:  # e.g. a draft submitted after closing
        return _unavailable_page(loaded, unavailable.reason, refusal_of(unavailable),
                                 status=409)
    except SubmissionInvalid as invalid:
        evaluation = evaluate(loaded.compiled, work.answers, language)
        broken = first_step_with_errors(loaded.form, invalid.errors) or loaded.form.steps[0]
        return _render_step(
            loaded, broken, work, work.answers, evaluation, step_errors(evaluation, broken),
            returning=True, status=422,
        )
    applicant_session.forget_draft(form_id)
    applicant_session.remember_submission(form_id, created.reference, created.token)
    return redirect(url_for(".confirmation", form_id=form_id))


@bp.post("/f/<form_id>/new")
@post_limit
def start_new(form_id: str) -> ResponseReturnValue:
    """"Start a new application" on the notice of the last one sent: forget that one."""
    load_form(form_id)
    applicant_session.forget_submission(form_id)
    return redirect(url_for(".begin", form_id=form_id))


@bp.get("/f/<form_id>/confirmation")
def confirmation(form_id: str) -> Any:
    loaded = load_form(form_id)
    done = applicant_session.last_submission(form_id)
    if done is None:
        return redirect(url_for(".begin", form_id=form_id))
    return render_template(
        "applicant/confirmation.html",
        **_page_context(loaded, None),
        message=loaded.text(loaded.form.confirmation),
        reference=done["reference"],
        status_url=url_for(".status", token=done["token"], _external=True),
    )


@bp.get("/f/<form_id>/saved")
def saved(form_id: str) -> Any:
    """After "save and continue later": the resume link, and until when it works."""
    loaded, work = load_with_work(form_id)
    if work.token is None:
        return redirect(url_for(".begin", form_id=form_id))
    return render_template(
        "applicant/saved.html",
        **_page_context(loaded, work),
        continue_url=url_for(".begin", form_id=form_id),
        mailed_to=applicant_session.link_mailed_to(form_id),
    )


@bp.get("/f/<form_id>/definition/<content_hash>.js")
def definition_file(form_id: str, content_hash: str) -> Response:
    """A version's definition for the live rules of its step pages (``definition_script``).

    Addressed by the content hash, so it never changes: the browser may keep it for a year.
    Older versions are still served, for pages rendered just before a publish.
    """
    record = load_form(form_id).record
    if record.content_hash != content_hash:
        record = form_version_by_hash(get_db(), form_id, content_hash)  # NotFound: a 404 page
    response = Response(definition_script(record), mimetype="text/javascript")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


@bp.get("/resume/<token>")
def resume_draft(token: str) -> Any:
    """The secret link: bring a draft into this browser and continue where it left off."""
    db = get_db()
    try:
        resumed = resume(db, token)
    except NotFound:
        return error_page(404)
    except DraftExpired:
        return _expired_page(), 410
    applicant_session.remember_draft(resumed.form_id, token)
    if request.args.get("lang") not in UI_LANGUAGES:
        remember_language(resumed.language)
    return redirect(url_for(".begin", form_id=resumed.form_id))


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


# -- rendering helpers ------------------------------------------------------------------------


def _page_context(loaded: LoadedForm, work: Work | None) -> dict[str, Any]:
    resume_url = None
    expires = None
    if work is not None and work.token is not None:
        resume_url = url_for("applicant.resume_draft", token=work.token, _external=True)
        if work.expires_at is not None:
            expires = long_date(work.expires_at)
    return {
        "form_id": loaded.id,
        "form_title": loaded.text(loaded.form.title) or loaded.id,
        "resume_url": resume_url,
        "expires": expires,
        "ttl_days": _ttl_days_text(),
        "honeypot_field": HONEYPOT_FIELD,
        "privacy_notice": loaded.text(loaded.form.privacy_notice),
        "retention_days": loaded.form.retention_days or current_app.config.get("RETENTION_DAYS"),
    }


def _availability_entry(form: FormDefinition) -> dict[str, Any]:
    found = current_availability(form)
    return {"accepts": found.accepts, "availability": availability_notice(found)}


def _unavailable_page(
    loaded: LoadedForm, reason: str, notice: str, *, status: int = 200
) -> tuple[str, int]:
    """The form takes no submission now: say why instead of showing a step."""
    page = render_template("applicant/unavailable.html", **_page_context(loaded, None),
                           reason=reason, notice=notice)
    return page, status


def _unstorable(posted: dict[str, Any]) -> list[str]:
    """The fields whose posted text holds a character no answer may hold (never stored)."""
    return [field_id for field_id, value in posted.items()
            if isinstance(value, str) and forbidden_character(value) is not None]


def _refused_notes(loaded: LoadedForm) -> list[str]:
    """The notices for answers that were not kept (flashed field ids): text a "back" or a
    language switch could not store, a value of the form's link the field refuses."""
    fields = loaded.form.field_map()
    notes = []
    for category, field_id in get_flashed_messages(
            with_categories=True, category_filter=["refused", "prefill-refused"]):
        f = fields.get(field_id)
        if f is None:
            continue
        label = loaded.text(f.label) or f.id
        if category == "refused":
            notes.append(_("Your answer to “%(field)s” held characters that cannot be stored "
                           "(such as control characters), so it was not kept. Please enter it "
                           "again.", field=label))
        else:
            notes.append(_("The link gave “%(field)s” a value that is not a valid answer, so "
                           "it was left empty.", field=label))
    return notes


def _render_step(
    loaded: LoadedForm,
    current: Step,
    work: Work,
    answers: dict[str, Any],
    evaluation: Evaluation,
    errors: dict[str, list[str]],
    *,
    returning: bool = False,
    status: int = 200,
) -> tuple[str, int]:
    language = current_language()
    form = loaded.form
    form_class = step_form_class(loaded.record.content_hash, form, current, language,
                                 _("Please choose"))
    position, total = progress(evaluation.visible_steps, current.id)
    sent = None
    if work.token is None and position == 1:
        # No draft, but this browser sent the form: "back" from the confirmation lands here.
        last = applicant_session.last_submission(loaded.id)
        if last is not None:
            sent = {"reference": last["reference"],
                    "status_url": url_for(".status", token=last["token"], _external=True)}
    steps = [
        {"id": s.id, "title": loaded.text(s.title) or s.id, "current": s.id == current.id}
        for s in form.steps if s.id in evaluation.visible_steps
    ]
    page = render_template(
        "applicant/step.html",
        **_page_context(loaded, work),
        step=current,
        step_title=loaded.text(current.title),
        step_form=form_class(answers, evaluation.calculated),
        visible=set(evaluation.visible_fields),
        required=set(evaluation.required),
        errors=errors,
        position=position,
        total=total,
        steps=steps,
        previous=neighbour_step(form, evaluation.visible_steps, current.id, -1),
        summary=_summary(loaded, errors),
        returning=returning,
        carried_over=work.carried_over,
        dropped=bool(work.dropped),
        definition_hash=loaded.record.content_hash,
        other_answers=other_steps_answers(form, answers, current),
        live_messages={"language": language, "error": _("Error:"),
                       "default_language": form.default_language,
                       "messages": catalogue(language)},
        sent=sent,
        refused_notes=_refused_notes(loaded),
        availability=availability_notice(current_availability(loaded.form)),
    )
    return page, status


def _summary(
    loaded: LoadedForm, errors: dict[str, list[str]], *, link_to_steps: bool = False
) -> list[dict[str, str]]:
    """One entry per message for the error summary, linking to its field."""
    fields = loaded.form.field_map()
    entries = []
    for field_id, messages in errors.items():
        f = fields.get(field_id)
        if f is None:
            continue
        anchor = dom_id(field_id)
        href = f"#{anchor}"
        if link_to_steps:
            href = url_for(".step", form_id=loaded.id, step_id=f.step, _anchor=anchor,
                           **REVIEW_ARGS)
        for message in messages:
            entries.append(
                {"field": field_id, "href": href, "label": loaded.text(f.label) or field_id,
                 "message": message}
            )
    return entries


def _review_sections(
    loaded: LoadedForm, answers: dict[str, Any], evaluation: Evaluation
) -> list[dict[str, Any]]:
    visible = set(evaluation.visible_fields)
    sections = []
    for s in loaded.form.steps:
        if s.id not in evaluation.visible_steps:
            continue
        rows = [
            {
                "id": f.id,
                "label": loaded.text(f.label) or f.id,
                "value": (number_text(evaluation.calculated.get(f.id)) or str(_("Not answered"))
                          if f.is_calculated else _rows_display(loaded, f, answers.get(f.id))
                          if f.is_group else _display(loaded, f, answers.get(f.id))),
                "errors": evaluation.errors.get(f.id, []),
                "change_url": url_for(".step", form_id=loaded.id, step_id=s.id,
                                      _anchor=dom_id(f.id), **REVIEW_ARGS),
            }
            for f in s.fields if f.is_input and f.id in visible
        ]
        sections.append({"id": s.id, "title": loaded.text(s.title) or s.id, "rows": rows,
                         "change_url": url_for(".step", form_id=loaded.id, step_id=s.id,
                                               **REVIEW_ARGS)})
    return sections


def _rows_display(loaded: LoadedForm, group: Field, raw: Any) -> str:
    """A repeating group's rows, one line each, with only the cells visible in each row."""
    rows = [row for row in raw if isinstance(row, dict)] if isinstance(raw, list) else []
    if not rows:
        return str(_("Not answered"))
    shown = []
    for row, result in zip(rows, row_evaluations(loaded.compiled, group.id, rows,
                                                 current_language()), strict=True):
        visible = set(result.visible_fields)
        shown.append({**{k: v for k, v in row.items() if k in visible}, **result.calculated})

    def cell_text(cell: Field | None, value: Any) -> str:
        if cell is None:
            return str(value)
        if cell.is_calculated:
            return number_text(value)
        return _display(loaded, cell, value)

    return rows_text(group, shown, lambda cell: loaded.text(cell.label) or cell.id, cell_text)


def _display(loaded: LoadedForm, f: Field, raw: Any) -> str:
    """An answer in words: option labels, Yes/No, a localised date; empty says so."""
    value, error = convert(f, raw)
    if error is not None:
        return str(raw) if not isinstance(raw, list) else ", ".join(map(str, raw))
    if f.type == "checkbox":
        return str(_("Yes") if value else _("No"))
    if is_empty(value):
        return str(_("Not answered"))
    if f.is_file and isinstance(value, list):
        return "\n".join(f"{ref['name']} ({file_size(ref['size'])})" for ref in value)
    labels = {o.value: loaded.text(o.label) or o.value for o in f.options}
    if f.type in ("select", "radio") and isinstance(value, str):
        return labels.get(value, value)
    if f.type == "checkboxes" and isinstance(value, list):
        return ", ".join(labels.get(v, v) for v in value)
    if f.type == "date" and isinstance(value, str):
        try:
            return long_date(datetime.fromisoformat(value).date())
        except ValueError:
            return value
    return str(value)
