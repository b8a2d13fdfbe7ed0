"""The form and workflow editors: their pages and the JSON endpoints their scripts call.

The page carries everything the script needs in one ``<script type="application/json"
id="editor-config">`` block (the draft, the engine's operator and property tables, the
published workflows or forms, URLs, words) — no inline script, as the CSP demands. The script
edits one draft object; both of its views (the builder and the raw JSON) change that object.

Endpoints (all POST bodies are JSON; send ``X-CSRFToken``):

=========================================  ===================================================
``GET  …/<id>/draft``                      the working draft (or the newest version, rev. 0)
``POST …/<id>/draft``                      save ``{"definition", "revision"}`` → the draft and
                                           its problems; 409 when someone else saved first
``POST …/<id>/draft/discard``              throw the draft away
``POST …/<id>/check``                      ``{"definition"}`` → every problem (pointer, message,
                                           severity), nothing stored
``POST …/<id>/changes``                    ``{"definition"}`` → what publishing would change
``POST …/<id>/publish``                    ``{"revision"}`` → the new version; 422 problems
``POST /admin/forms/<id>/preview``         ``{"definition", "answers", "language"}`` → ``{"html"}``:
                                           the draft's steps as applicants see them
``POST /admin/forms/<id>/what-if``         ``{"definition", "answers", "role", "language"}``
``POST /admin/workflows/<id>/what-if``     ``{"definition", "form", "answers", "role"}``
``POST /admin/workflows/<id>/diagram``     ``{"definition", "language"}`` → ``{"svg"}``
=========================================  ===================================================
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from engine.conditions import OPERATORS
from engine.definitions import load_form
from engine.diagram import workflow_svg
from engine.evaluation import evaluate
from engine.exceptions import DefinitionError, NotFound
from engine.model import WorkflowDefinition
from engine.services import list_published
from engine.services.editing import (
    DraftConflict,
    EditorDraft,
    check_draft,
    discard_editor_draft,
    draft_changes,
    editor_draft,
    publish_editor_draft,
    save_editor_draft,
)
from engine.services.loading import form_of, workflow_of
from engine.services.simulation import simulate_form, simulate_workflow
from engine.services.users import KNOWN_ROLES
from engine.services.workflow_moves import open_on_older_versions
from engine.text import localize
from engine.workflows import load_workflow
from web.admin.common import (
    actor,
    bp,
    database,
    json_body,
    json_error,
    kind_of,
    problems_json,
    text_in,
)
from web.admin.metadata import FIELD_TYPES, field_properties, js_words, operators
from web.admin.problems import problem_summary, readable_problems
from web.admin.text import gettext as _
from web.admin.text import ngettext, page_language
from web.applicant.forms import build_step_form
from web.auth import role_name, roles_required

__all__: list[str] = []

MAX_ANSWERS = 2000
"""Sample answers beyond this many keys are refused (a what-if is not a load test)."""
PREVIEW_ID_PREFIX = "pv-"
"""Ids of the preview's fields (``pv-<field>``), apart from the editor's own ids."""


# -- pages ------------------------------------------------------------------------------------


@bp.get("/<any(forms, workflows):kinds>/<definition_id>/edit")
@roles_required("admin")
def edit(kinds: str, definition_id: str) -> ResponseReturnValue:
    kind = kind_of(kinds)
    db = database()
    try:
        draft = editor_draft(db, kind, definition_id)
    except NotFound:
        abort(404)
    config = _config(kinds, definition_id, draft)
    template = "admin/form_editor.html" if kind == "form" else "admin/workflow_editor.html"
    diagram = _diagram(draft.data) if kind == "workflow" else None
    return render_template(template, kind=kind, kinds=kinds, definition_id=definition_id,
                           draft=draft, config=config, diagram=diagram)


def _config(kinds: str, definition_id: str, draft: EditorDraft) -> dict[str, Any]:
    db = database()
    language = page_language()

    def url(endpoint: str) -> str:
        return url_for(endpoint, kinds=kinds, definition_id=definition_id)

    urls = {
        "draft": url("admin.draft"),
        "discard": url("admin.discard"),
        "check": url("admin.check"),
        "changes": url("admin.changes"),
        "publish": url("admin.publish"),
        "versions": url("admin.versions"),
        "list": url_for("admin.definitions", kinds=kinds),
        "what_if": url_for(f"admin.{draft.kind}_what_if", definition_id=definition_id),
    }
    if draft.kind == "form":
        urls["preview"] = url_for("admin.form_preview", definition_id=definition_id)
    if draft.kind == "workflow":
        urls["diagram"] = url_for("admin.diagram", definition_id=definition_id)
    workflows = []
    roles = set(KNOWN_ROLES)
    for record in list_published(db, "workflow"):
        workflow = workflow_of(db, record)
        workflow_roles = sorted({r for t in workflow.transitions for r in t.roles})
        roles.update(workflow_roles)
        workflows.append({"id": workflow.id, "title": text_in(workflow.title, language),
                          "roles": workflow_roles})
    forms = []
    for record in list_published(db, "form"):
        form = form_of(db, record)
        default = form.default_language
        forms.append({
            "id": form.id,
            "title": text_in(form.title, language, default),
            "workflow": form.workflow,
            "languages": list(form.languages),
            "fields": [
                {"id": f.id, "type": f.type,
                 "label": text_in(f.label, language, default) or f.id,
                 "options": [{"value": o.value,
                              "label": text_in(o.label, language, default) or o.value}
                             for o in f.options]}
                for f in form.fields() if f.is_input
            ],
        })
    return {
        "kind": draft.kind,
        "id": definition_id,
        "language": language,
        "draft": draft.as_json(),
        "urls": urls,
        "operators": operators(),
        "operator_order": list(OPERATORS),
        "field_types": list(FIELD_TYPES),
        "field_properties": field_properties(),
        "workflows": workflows,
        "forms": forms,
        "roles": sorted(roles),
        "role_names": {role: role_name(role) for role in sorted(roles)},
        "words": js_words(_),
        "csrf_token": generate_csrf(),
    }


def _diagram(data: Any, language: str | None = None) -> Markup | None:
    """The workflow's SVG (every text escaped by ``engine.diagram``), None while invalid."""
    try:
        workflow: WorkflowDefinition = load_workflow(data)
    except DefinitionError:
        return None
    return Markup(workflow_svg(workflow, language or page_language(), id_prefix="wf"))


# -- the draft --------------------------------------------------------------------------------


@bp.route("/<any(forms, workflows):kinds>/<definition_id>/draft", methods=["GET", "POST"])
@roles_required("admin")
def draft(kinds: str, definition_id: str) -> ResponseReturnValue:
    kind = kind_of(kinds)
    db = database()
    if request.method == "GET":
        return jsonify(editor_draft(db, kind, definition_id).as_json())
    body = json_body()
    if "definition" not in body:
        return json_error(400, "bad_request", _("The draft is missing."))
    revision = body.get("revision")
    if revision is not None and (not isinstance(revision, int) or isinstance(revision, bool)):
        return json_error(400, "bad_request", _("The revision must be a number."))
    try:
        saved = save_editor_draft(db, kind, definition_id, body["definition"], actor=actor(),
                                  expected_revision=revision)
    except DraftConflict as exc:
        return json_error(409, exc.code, _("Someone else saved this draft in the meantime."),
                          draft=exc.current.as_json() if exc.current else None)
    problems = check_draft(db, kind, definition_id, saved.data)
    return jsonify({"draft": saved.as_json(),
                    "problems": readable_problems(problems, saved.data, page_language()),
                    "summary": problem_summary(problems)})


@bp.post("/<any(forms, workflows):kinds>/<definition_id>/draft/discard")
@roles_required("admin")
def discard(kinds: str, definition_id: str) -> ResponseReturnValue:
    kind = kind_of(kinds)
    discarded = discard_editor_draft(database(), kind, definition_id)
    if request.is_json:
        return jsonify({"discarded": discarded})
    flash(_("The draft was discarded.") if discarded else _("There was no draft."), "notice")
    return redirect(url_for("admin.definitions", kinds=kinds))


@bp.post("/<any(forms, workflows):kinds>/<definition_id>/check")
@roles_required("admin")
def check(kinds: str, definition_id: str) -> ResponseReturnValue:
    kind = kind_of(kinds)
    body = json_body()
    definition = body.get("definition")
    problems = check_draft(database(), kind, definition_id, definition)
    errors = sum(1 for p in problems if p.severity == "error")
    return jsonify({"problems": readable_problems(problems, definition, page_language()),
                    "errors": errors, "warnings": len(problems) - errors,
                    "summary": problem_summary(problems)})


@bp.post("/<any(forms, workflows):kinds>/<definition_id>/changes")
@roles_required("admin")
def changes(kinds: str, definition_id: str) -> ResponseReturnValue:
    kind = kind_of(kinds)
    body = json_body()
    found = draft_changes(database(), kind, definition_id, body.get("definition"),
                          page_language())
    return jsonify({"changes": [c.as_json() for c in found]})


@bp.post("/<any(forms, workflows):kinds>/<definition_id>/publish")
@roles_required("admin")
def publish(kinds: str, definition_id: str) -> ResponseReturnValue:
    kind = kind_of(kinds)
    body = json_body()
    revision = body.get("revision")
    if revision is not None and (not isinstance(revision, int) or isinstance(revision, bool)):
        return json_error(400, "bad_request", _("The revision must be a number."))
    try:
        data = editor_draft(database(), kind, definition_id).data
        outcome = publish_editor_draft(database(), kind, definition_id,
                                       expected_revision=revision, language=page_language(),
                                       actor=current_user.email)
    except DraftConflict as exc:
        return json_error(409, exc.code, _("Someone else saved this draft in the meantime."),
                          draft=exc.current.as_json() if exc.current else None)
    except DefinitionError as exc:
        return json_error(422, "definition_invalid",
                          _("Fix the errors first: they block publishing."),
                          problems=readable_problems(exc.problems, data, page_language()))
    current_app.logger.info("%s published %s %s version %s", actor(), kind, definition_id,
                            outcome.version)
    answer: dict[str, Any] = {
        "version": outcome.version,
        "created": outcome.created,
        "warnings": readable_problems(outcome.warnings, data, page_language()),
        "changes": [c.as_json() for c in outcome.changes],
        "versions_url": url_for("admin.versions", kinds=kinds, definition_id=definition_id),
    }
    if kind == "workflow":
        # Submissions keep their workflow version: offer to move the open ones explicitly.
        plan = open_on_older_versions(database(), definition_id)
        answer["open_on_older"] = len(plan.candidates)
        answer["movable"] = len(plan.movable)
        answer["moves_url"] = url_for("admin.workflow_moves", definition_id=definition_id)
        answer["moves_text"] = ngettext(
            "%(num)s open submission is still on an older version (%(movable)s can move).",
            "%(num)s open submissions are still on an older version (%(movable)s can move).",
            len(plan.candidates), movable=len(plan.movable))
    return jsonify(answer)


# -- what if, diagram -------------------------------------------------------------------------


def _answers(body: dict[str, Any]) -> dict[str, Any] | None:
    answers = body.get("answers", {})
    if not isinstance(answers, dict) or len(answers) > MAX_ANSWERS:
        return None
    return answers


def _roles(body: dict[str, Any]) -> list[str]:
    role = body.get("role")
    return [role] if isinstance(role, str) and role else ["coordinator"]


@bp.post("/forms/<definition_id>/preview")
@roles_required("admin")
def form_preview(definition_id: str) -> ResponseReturnValue:
    """The draft's steps with the sample answers, rendered by the applicant pages' field
    macros (``applicant/_fields.html``): the editor shows this HTML and lets
    ``formflow-form.js`` run the rules on it live."""
    body = json_body()
    answers = _answers(body)
    if answers is None:
        return json_error(400, "bad_request", _("The answers must be a JSON object."))
    definition = body.get("definition")
    try:
        form = load_form(definition)
    except DefinitionError as exc:
        return json_error(422, "definition_invalid",
                          _("The preview needs a valid definition."),
                          problems=problems_json(exc.problems))
    language = body.get("language")
    if language not in form.languages:
        language = form.default_language
    evaluation = evaluate(form, answers, language)
    choose = _("Please choose")
    pages = [
        {
            "step": step,
            "title": localize(step.title, language, form.default_language) or step.id,
            "form": build_step_form(form, step, language, choose_label=choose,
                                    id_prefix=PREVIEW_ID_PREFIX)(answers, evaluation.calculated),
        }
        for step in form.steps
    ]
    html = render_template(
        "admin/_preview.html",
        definition=definition,
        language=language,
        pages=pages,
        visible_steps=set(evaluation.visible_steps),
        visible=set(evaluation.visible_fields),
        required=set(evaluation.required),
    )
    return jsonify({"html": html})


@bp.post("/forms/<definition_id>/what-if")
@roles_required("admin")
def form_what_if(definition_id: str) -> ResponseReturnValue:
    body = json_body()
    answers = _answers(body)
    if answers is None:
        return json_error(400, "bad_request", _("The answers must be a JSON object."))
    language = body.get("language") if isinstance(body.get("language"), str) else None
    workflow_data = None
    if body.get("workflow_draft"):
        workflow_id = (body.get("definition") or {}).get("workflow", "review") \
            if isinstance(body.get("definition"), dict) else None
        if isinstance(workflow_id, str):
            try:
                workflow_data = editor_draft(database(), "workflow", workflow_id).data
            except NotFound:
                workflow_data = None
    try:
        result = simulate_form(database(), body.get("definition"), answers, language=language,
                               roles=_roles(body), workflow_data=workflow_data)
    except DefinitionError as exc:
        return json_error(422, "definition_invalid",
                          _("The preview needs a valid definition."),
                          problems=problems_json(exc.problems))
    return jsonify(result.as_json())


@bp.post("/workflows/<definition_id>/what-if")
@roles_required("admin")
def workflow_what_if(definition_id: str) -> ResponseReturnValue:
    body = json_body()
    answers = _answers(body)
    if answers is None:
        return json_error(400, "bad_request", _("The answers must be a JSON object."))
    form_id = body.get("form")
    if not isinstance(form_id, str):
        return json_error(400, "bad_request", _("Please choose a form."))
    language = body.get("language") if isinstance(body.get("language"), str) else None
    try:
        result = simulate_workflow(database(), body.get("definition"), form_id, answers,
                                   language=language, roles=_roles(body))
    except DefinitionError as exc:
        return json_error(422, "definition_invalid",
                          _("The workflow has errors; fix them first."),
                          problems=problems_json(exc.problems))
    return jsonify(result.as_json())


@bp.post("/workflows/<definition_id>/diagram")
@roles_required("admin")
def diagram(definition_id: str) -> ResponseReturnValue:
    body = json_body()
    language = body.get("language") if isinstance(body.get("language"), str) else None
    try:
        workflow = load_workflow(body.get("definition"))
    except DefinitionError as exc:
        return json_error(422, "definition_invalid",
                          _("The diagram appears when the workflow is valid."),
                          problems=problems_json(exc.problems))
    return jsonify({"svg": workflow_svg(workflow, language or page_language(),
                                        id_prefix="wf")})
