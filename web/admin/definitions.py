"""Forms and workflows: the lists, import, export, new drafts, version history and diffs.

Import is all-or-nothing: the uploaded file is checked completely first (and, when it is to
be published, against its workflow or the forms using it), every problem is shown as
``pointer: message``, and nothing is stored unless all is well — the same rule as for
``formflow forms import``, through the same services.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.exceptions import AlreadyExists, DefinitionError, InvalidInput, NotFound
from engine.problems import Problem
from engine.services import export_definition, list_published, publish_definition
from engine.services.editing import (
    check_draft,
    definition_listings,
    import_upload,
    new_editor_draft,
    proposed_id,
    version_changes,
    version_history,
)
from web.admin.common import (
    actor,
    bp,
    database,
    kind_of,
    text_in,
)
from web.admin.problems import readable_problems
from web.admin.text import gettext as _
from web.admin.text import page_language
from web.auth import roles_required
from web.ids import id_arg

__all__ = ["MAX_UPLOAD_BYTES"]

MAX_UPLOAD_BYTES = 1024 * 1024


@bp.get("/")
@roles_required("admin")
def index() -> ResponseReturnValue:
    return redirect(url_for("admin.definitions", kinds="forms"))


def _list_page(kinds: str, *, status: int = 200, **extra: Any) -> ResponseReturnValue:
    kind = kind_of(kinds)
    language = page_language()
    listings = definition_listings(database(), kind)
    rows = [
        {
            "id": item.definition_id,
            "title": text_in(item.title, language),
            "published": item.published_version,
            "latest": item.latest_version,
            "versions": item.version_count,
            "draft": item.has_draft,
            "draft_by": item.draft_updated_by,
            "draft_at": item.draft_updated_at,
        }
        for item in listings
    ]
    return render_template(
        "admin/definitions.html", kind=kind, kinds=kinds, rows=rows, **extra
    ), status


@bp.get("/<any(forms, workflows):kinds>")
@roles_required("admin")
def definitions(kinds: str) -> ResponseReturnValue:
    return _list_page(kinds)


@bp.post("/<any(forms, workflows):kinds>/import")
@roles_required("admin")
def import_file(kinds: str) -> ResponseReturnValue:
    kind = kind_of(kinds)
    upload = request.files.get("definition_file")
    publish = request.form.get("publish") == "on"
    if upload is None or not upload.filename:
        return _list_page(kinds, status=400, import_problems=[
            {"pointer": "", "message": _("Please choose a JSON file.")}])
    raw = upload.stream.read(MAX_UPLOAD_BYTES + 1)
    if len(raw) > MAX_UPLOAD_BYTES:
        return _list_page(kinds, status=413, import_problems=[
            {"pointer": "", "message": _("The file is larger than 1 MB.")}])
    try:
        outcome = import_upload(database(), kind, raw, publish=publish,
                                language=page_language(), actor=current_user.email)
    except DefinitionError as exc:
        return _list_page(kinds, status=422, import_file_name=upload.filename,
                          import_problems=[p.as_json() for p in exc.problems])
    if not outcome.created:
        message = _("%(id)s is unchanged: version %(version)s already has this content.",
                    id=outcome.definition_id, version=outcome.version)
    elif publish:
        message = _("%(id)s was imported and published as version %(version)s.",
                    id=outcome.definition_id, version=outcome.version)
    else:
        message = _("%(id)s was imported as version %(version)s (not published).",
                    id=outcome.definition_id, version=outcome.version)
    flash(message, "notice")
    data = export_definition(database(), kind, outcome.definition_id, outcome.version)
    _flash_warnings(outcome.warnings, data)
    return redirect(url_for("admin.versions", kinds=kinds, definition_id=outcome.definition_id))


@bp.post("/<any(forms, workflows):kinds>/new")
@roles_required("admin")
def new_definition(kinds: str) -> ResponseReturnValue:
    kind = kind_of(kinds)
    title = (request.form.get("title") or "").strip()[:200]
    definition_id = (request.form.get("definition_id") or "").strip()[:200]
    if not definition_id:
        definition_id = proposed_id(title)
    try:
        new_editor_draft(database(), kind, definition_id, actor=actor(), title=title)
    except (AlreadyExists, InvalidInput) as exc:
        proposal = proposed_id(definition_id or title)
        if isinstance(exc, AlreadyExists):
            message = _("This id is already taken.")
        elif proposal:
            # Not refused by a pattern: the id it could be is proposed, to confirm or change.
            message = _("An id is written in lowercase letters, digits, '_' or '-'; "
                        "%(proposal)s is proposed: check it and create again.",
                        proposal=proposal)
            definition_id = proposal
        else:
            message = _("An id starts with a lowercase letter, followed by lowercase "
                        "letters, digits, '_' or '-' (at most 64 characters).")
        return _list_page(kinds, status=422, new_error=message, new_id=definition_id,
                          new_title=title)
    return redirect(url_for("admin.edit", kinds=kinds, definition_id=definition_id))


@bp.get("/<any(forms, workflows):kinds>/<definition_id>/export")
@roles_required("admin")
def export(kinds: str, definition_id: str) -> ResponseReturnValue:
    kind = kind_of(kinds)
    version = id_arg("version")
    db = database()
    if version is None:
        published = [r for r in list_published(db, kind) if r.definition_id == definition_id]
        version = published[0].version if published else None
    try:
        data = export_definition(db, kind, definition_id, version)
    except NotFound:
        abort(404)
    if version is None:
        version = max(v.version for v in version_history(db, kind, definition_id))
    body = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
    response = Response(body, mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{definition_id}-v{version}.json"'
    )
    return response


@bp.get("/<any(forms, workflows):kinds>/<definition_id>/versions")
@roles_required("admin")
def versions(kinds: str, definition_id: str) -> ResponseReturnValue:
    kind = kind_of(kinds)
    try:
        history = version_history(database(), kind, definition_id)
    except NotFound:
        abort(404)
    return render_template(
        "admin/versions.html", kind=kind, kinds=kinds, definition_id=definition_id,
        versions=list(reversed(history)),
    )


@bp.post("/<any(forms, workflows):kinds>/<definition_id>/versions/<id:version>/publish")
@roles_required("admin")
def publish_version(kinds: str, definition_id: str, version: int) -> ResponseReturnValue:
    """Publish an older (or unpublished) stored version again: the way back after a mistake."""
    kind = kind_of(kinds)
    try:
        publish_definition(database(), kind, definition_id, version, actor=current_user.email)
    except NotFound:
        abort(404)
    except DefinitionError as exc:
        for problem in exc.problems:
            flash(problem.format(), "error")
        flash(_("Version %(version)s cannot be published.", version=version), "error")
    else:
        flash(_("Version %(version)s is now published.", version=version), "notice")
        data = export_definition(database(), kind, definition_id, version)
        problems = check_draft(database(), kind, definition_id, data)
        _flash_warnings([p for p in problems if p.severity == "warning"], data)
    return redirect(url_for("admin.versions", kinds=kinds, definition_id=definition_id))


def _flash_warnings(warnings: Sequence[Problem], data: Any) -> None:
    """What publishing did not stop but the administrator should know (e.g. texts empty in a
    language the form lists), named by label in the page language."""
    for warning in readable_problems(warnings, data, page_language()):
        place = f"{warning['where']}: " if warning["where"] else ""
        flash(_("Warning: %(problem)s", problem=place + warning["text"]), "warning")


@bp.get("/<any(forms, workflows):kinds>/<definition_id>/diff")
@roles_required("admin")
def diff(kinds: str, definition_id: str) -> ResponseReturnValue:
    kind = kind_of(kinds)
    db = database()
    try:
        history = version_history(db, kind, definition_id)
    except NotFound:
        abort(404)
    numbers = [v.version for v in history]
    old = id_arg("from")
    new = id_arg("to")
    if new is None:
        new = numbers[-1]
    if old is None:
        old = max([n for n in numbers if n < new], default=new)
    if old not in numbers or new not in numbers:
        abort(404)
    changes = version_changes(db, kind, definition_id, old, new, page_language())
    return render_template(
        "admin/diff.html", kind=kind, kinds=kinds, definition_id=definition_id,
        old=old, new=new, numbers=numbers, changes=changes,
    )
