"""The audit log of administrative actions: listed, filtered and exported as CSV.

Read-only — the log is written only by ``engine.services.audit.record_admin_action`` in the
transaction of the action itself. Filters travel in the query string (``action``, ``actor``,
``from``, ``to`` as ISO dates in the app's time zone); the CSV export takes the same ones and
neutralises cells a spreadsheet would take for a formula.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Response, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue

from engine.services import AuditQuery, audit_actions, audit_csv_chunks, audit_entries
from web.admin.common import bp, database
from web.admin.text import gettext as _
from web.auth import roles_required
from web.i18n import display_zone

__all__: list[str] = []

PAGE_SIZE = 100


@bp.get("/audit")
@roles_required("admin")
def audit() -> ResponseReturnValue:
    query, errors = _query()
    page = _page_number()
    entries, total = audit_entries(database(), query, limit=PAGE_SIZE,
                                   offset=(page - 1) * PAGE_SIZE)
    return render_template(
        "admin/audit.html", entries=entries, total=total, page=page,
        pages=max(1, -(-total // PAGE_SIZE)), actions=audit_actions(database()),
        filters=_filter_values(), errors=errors,
    ), 422 if errors else 200


@bp.get("/audit.csv")
@roles_required("admin")
def audit_csv() -> ResponseReturnValue:
    query, errors = _query()
    if errors:
        return Response("\n".join(errors) + "\n", status=422, mimetype="text/plain")
    return Response(
        stream_with_context(audit_csv_chunks(database(), query)),
        mimetype="text/csv",
        headers={"Content-Disposition": 'attachment; filename="formflow-audit.csv"'},
    )


def _filter_values() -> dict[str, str]:
    return {name: (request.args.get(name) or "").strip()[:254]
            for name in ("action", "actor", "from", "to")}


def _query() -> tuple[AuditQuery, list[str]]:
    values = _filter_values()
    errors: list[str] = []
    since = _day(values["from"], errors)
    until = _day(values["to"], errors)
    return AuditQuery(
        action=values["action"] or None,
        actor=values["actor"] or None,
        since=since,
        before=until + timedelta(days=1) if until is not None else None,
    ), errors


def _day(raw: str, errors: list[str]) -> datetime | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors.append(_("“%(value)s” is not a date (YYYY-MM-DD).", value=raw))
        return None
    return datetime.combine(day, time(), tzinfo=display_zone())


def _page_number() -> int:
    raw: Any = request.args.get("page", "1")
    try:
        return max(1, min(int(raw), 100_000))
    except ValueError:
        return 1
