"""The applicant's pages: start page, one page per visible step, review, submit, confirmation,
save-and-resume, and the status page behind the secret link (what they load and save:
``web.applicant.work``).

Every read and write goes through ``engine.services`` (published forms, drafts, submit,
status); the engine's evaluation decides visibility, requirement and validity — the server is
authoritative, the browser script only mirrors it live. Each POST answers with a redirect
(so reloading never sends twice) except when the page must show errors (422).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
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
from flask_babel import gettext as _

from engine.evaluation import Evaluation, evaluate
from engine.exceptions import (
    DraftExpired,
    FormUnavailable,
    NotFound,
    StorageUnavailable,
    SubmissionInvalid,
)
from engine.messages import catalogue
from engine.model import FormDefinition, Step
from engine.services import (
    form_version_by_hash,
    list_published,
    resume,
    submit,
)
from engine.services.loading import form_of
from engine.text import forbidden_character, localize
from web.applicant import prefill
from web.applicant import session as applicant_session
from web.applicant.answers_text import REVIEW_ARGS, error_summary, review_sections
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
from web.applicant.forms import step_form_class
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
from web.uploads import file_answers, read_uploads

__all__ = ["HONEYPOT_FIELD", "applicant_post_limit", "bp"]

HONEYPOT_FIELD = "_homepage"
"""The trap for form-filling bots. Field ids start with a letter, so no form can use it."""
DEFAULT_APPLICANT_POST_LIMIT = "60 per minute"
"""POSTs per client IP on the applicant pages: a person clicks far less, a script far more."""

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
        sections=review_sections(loaded, work.answers, evaluation),
        summary=error_summary(loaded, evaluation.errors, link_to_steps=True),
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
        summary=error_summary(loaded, errors),
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
