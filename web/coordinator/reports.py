"""Read-only pages for the coordinators: a form's statistics, a submission's print view and
its PDF.

``/inbox/statistics?form=<id>``: submissions per ISO week and per state, and the median time
to a final state, each as a server-drawn SVG chart (``web.coordinator.charts``) with a table
of the same numbers beside it. ``/inbox/<id>/print``: the answers with their labels, the
consents (kept in a tombstone too) and the history on a page meant for paper (print
CSS, no navigation); ``/inbox/<id>/print.pdf``: the same page as a PDF through WeasyPrint
when it is installed (``web.coordinator.pdf``).
"""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.exceptions import NotFound
from engine.records import SubmissionRecord
from engine.services import get_submission, list_published
from engine.services.loading import form_of, workflow_of
from engine.services.statistics import form_statistics
from engine.text import localize
from web.auth import roles_required
from web.coordinator.charts import bar_chart
from web.coordinator.pdf import pdf_unavailable, render_pdf
from web.coordinator.presenting import (
    display_timezone,
    state_label,
    submission_view,
)
from web.coordinator.text import gettext as _
from web.coordinator.text import ngettext, page_language
from web.db import get_db

__all__ = ["bp"]

STAFF_ROLE = "coordinator"  # administrators always pass ``roles_required``

bp = Blueprint("reports", __name__, url_prefix="/inbox")


# -- statistics ----------------------------------------------------------------------------


@bp.get("/statistics")
@roles_required(STAFF_ROLE)
def statistics() -> ResponseReturnValue:
    db = get_db()
    language = page_language()
    forms = {}
    for record in list_published(db, "form"):
        form = form_of(db, record)
        forms[form.id] = localize(form.title, language, form.default_language) or form.id
    chosen = request.args.get("form", "").strip()
    if not chosen and forms:
        chosen = min(forms, key=lambda f: forms[f].casefold())
    if chosen and chosen not in forms:
        abort(404)
    context: dict[str, object] = {}
    if chosen:
        stats = form_statistics(db, chosen, display_timezone())
        labels = _state_labels(language)
        states = [(labels.get(state, state), n) for state, n in sorted(
            stats.states.items(), key=lambda item: (-item[1], item[0]))]
        weeks = [(week.label, week.count) for week in stats.weeks]
        context = {
            "stats": stats,
            "weeks": weeks,
            "states": states,
            "week_chart": bar_chart(_("Submissions per week"), weeks, chart_id="weeks-chart"),
            "state_chart": bar_chart(_("Submissions per state"), states, chart_id="states-chart"),
            "median": (None if stats.median_to_final is None
                       else _duration(stats.median_to_final)),
            "final_states": sorted(labels.get(s, s) for s in stats.final_states),
        }
    return render_template(
        "coordinator/statistics.html",
        lang=language,
        form_choices=sorted(forms.items(), key=lambda f: f[1].casefold()),
        chosen=chosen,
        form_title=forms.get(chosen, ""),
        **context,
    )


def _state_labels(language: str) -> dict[str, str]:
    db = get_db()
    labels: dict[str, str] = {}
    for record in list_published(db, "workflow"):
        workflow = workflow_of(db, record)
        for state in workflow.states:
            labels.setdefault(state.id, state_label(workflow, state.id, language))
    return labels


def _duration(value: timedelta) -> str:
    """``2 days, 3 hours`` / ``45 minutes``: as much precision as a median needs."""
    days, seconds = value.days, value.seconds
    hours, minutes = seconds // 3600, (seconds % 3600) // 60
    parts = []
    if days:
        parts.append(ngettext("%(num)s day", "%(num)s days", days))
    if hours or (days and not minutes):
        parts.append(ngettext("%(num)s hour", "%(num)s hours", hours))
    if not days and (minutes or not hours):
        parts.append(ngettext("%(num)s minute", "%(num)s minutes", minutes))
    return ", ".join(parts)


# -- print view and PDF --------------------------------------------------------------------


@bp.get("/<submission_id>/print")
@roles_required(STAFF_ROLE)
def print_view(submission_id: str) -> ResponseReturnValue:
    return _print_html(_submission_or_404(submission_id), for_pdf=False)


@bp.get("/<submission_id>/print.pdf")
@roles_required(STAFF_ROLE)
def print_pdf(submission_id: str) -> ResponseReturnValue:
    record = _submission_or_404(submission_id)
    missing = pdf_unavailable(current_app.config.get("PDF_MODULE", "weasyprint"))
    if missing:
        return _print_html(record, for_pdf=False, pdf_missing=missing), 503
    html = _print_html(record, for_pdf=True)
    static_prefix = request.host_url.rstrip("/") + (current_app.static_url_path or "") + "/"
    pdf = render_pdf(
        html,
        base_url=request.host_url,
        static_prefix=static_prefix,
        static_folder=current_app.static_folder or "",
        module_name=current_app.config.get("PDF_MODULE", "weasyprint"),
    )
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{record.reference}.pdf"'
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _print_html(record: SubmissionRecord, *, for_pdf: bool, pdf_missing: str | None = None
                ) -> str:
    db = get_db()
    language = page_language()
    _workflow, shown = submission_view(db, record, language, show_webhook_errors=False)
    if pdf_missing is None and not for_pdf:
        pdf_missing = pdf_unavailable(current_app.config.get("PDF_MODULE", "weasyprint"))
    return render_template(
        "coordinator/print.html",
        lang=language,
        **shown,
        for_pdf=for_pdf,
        pdf_missing=pdf_missing,
        pdf_url=url_for("reports.print_pdf", submission_id=record.id),
        printed_by=current_user.email,
    )


def _submission_or_404(submission_id: str) -> SubmissionRecord:
    if len(submission_id) > 32:
        abort(404)
    try:
        return get_submission(get_db(), submission_id)
    except NotFound:
        abort(404)
