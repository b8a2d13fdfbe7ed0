"""The inbox's exports — CSV for machines, JSON, and a spreadsheet people can open — of the
submissions the inbox's filters select; routes of the ``coordinator`` blueprint, registered when
``init_app`` imports this module."""

from __future__ import annotations

import re
from datetime import datetime

from flask import Response, abort, request, send_file, stream_with_context
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.services.export import SheetWords, csv_chunks, export_plan, json_chunks, xlsx_file
from web.auth import roles_required
from web.coordinator.presenting import FilterForm, parse_filters
from web.coordinator.text import gettext as _
from web.coordinator.text import page_language
from web.coordinator.views import COORDINATOR_ROLE, bp, filter_choices
from web.db import get_db
from web.i18n import display_zone

__all__ = ["export_csv", "export_json", "export_xlsx"]


@bp.get("/export.csv")
@roles_required(COORDINATOR_ROLE)
def export_csv() -> ResponseReturnValue:
    filters = _export_filters()
    delimiter = ";" if request.args.get("delimiter") in (";", "semicolon") else ","
    db = get_db()
    plan = export_plan(db, filters.where)
    response = Response(
        stream_with_context(csv_chunks(db, plan, delimiter=delimiter)),
        mimetype="text/csv",
    )
    response.headers["Content-Disposition"] = f'attachment; filename="{_file_name(filters, "csv")}"'
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/export.json")
@roles_required(COORDINATOR_ROLE)
def export_json() -> ResponseReturnValue:
    filters = _export_filters()
    db = get_db()
    plan = export_plan(db, filters.where)
    response = Response(stream_with_context(json_chunks(db, plan)), mimetype="application/json")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{_file_name(filters, "json")}"'
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/export.xlsx")
@roles_required(COORDINATOR_ROLE)
def export_xlsx() -> ResponseReturnValue:
    """The spreadsheet for people: labels, typed cells (see ``engine.services.export``)."""
    filters = _export_filters()
    db = get_db()
    language = page_language()
    plan = export_plan(db, filters.where)
    _forms, states = filter_choices(language)
    words = SheetWords(
        language=language,
        zone=display_zone(),
        base_headers=(_("Reference"), _("Form"), _("Version"), _("State"), _("Received")),
        state_labels=dict(states),
        yes=_("Yes"),
        no=_("No"),
        consents_header=_("Consents"),
        consent_note=_("%(language)s, form version %(version)s, %(at)s"),
    )
    return send_file(
        xlsx_file(db, plan, words),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=_file_name(filters, "xlsx"),
    )


def _file_name(filters: FilterForm, extension: str) -> str:
    """``<form>-<YYYY-MM-DD>.<extension>``: the filtered form (``formflow`` for all forms) and
    today in the display zone. Form ids are plain ASCII, so the name needs no quoting."""
    today = datetime.now(display_zone()).date().isoformat()
    form = filters.form if re.fullmatch(r"[a-z][a-z0-9_-]{0,63}", filters.form) else "formflow"
    return f"{form}-{today}.{extension}"


def _export_filters() -> FilterForm:
    filters = parse_filters(request.args, current_user.id)
    if filters.errors:
        abort(400, description=" ".join(filters.errors))
    return filters
