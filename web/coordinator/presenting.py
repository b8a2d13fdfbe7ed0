"""Turning records into what the coordinator pages show: filters, labels, answers, timeline.

Kept apart from the views so that the rules for reading a request (which filters, which
dates) and for showing a stored answer (option labels of the PINNED form version, dates the
German way) are in one place and the views stay about requests and responses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from engine.exceptions import InvalidInput
from engine.files import is_file_ref
from engine.model import Field, FormDefinition, WorkflowDefinition
from engine.records import EventRecord, OutboxRecord, SubmissionRecord
from engine.rows import rows_text
from engine.services import Database, history, notifications_for
from engine.services.inbox import InboxFilter, Position, decode_position, pinned_definitions
from engine.text import localize
from web.config import DEFAULT_TIMEZONE
from web.coordinator.text import gettext as _
from web.i18n import display_zone, local_time
from web.uploads import size_text

__all__ = [
    "DEFAULT_TIMEZONE",
    "AnswerRow",
    "FilterForm",
    "TimelineEntry",
    "answer_sections",
    "consent_items",
    "display_timezone",
    "format_datetime",
    "parse_filters",
    "state_label",
    "timeline",
    "transition_label",
]

MAX_TEXT = 200


@dataclass
class FilterForm:
    """The inbox filters as typed (for re-filling the form) and as understood."""

    form: str = ""
    state: str = ""
    date_from: str = ""
    date_to: str = ""
    q: str = ""
    mine: bool = False
    errors: list[str] = field(default_factory=list)
    where: InboxFilter = field(default_factory=InboxFilter)
    before: Position | None = None
    after: Position | None = None

    def query_args(self, **changes: Any) -> dict[str, str]:
        """The filters as URL arguments (empty ones left out), e.g. for page links."""
        args = {
            "form": self.form, "state": self.state, "from": self.date_from,
            "to": self.date_to, "q": self.q, "mine": "1" if self.mine else "",
        }
        args.update({k: "" if v is None else str(v) for k, v in changes.items()})
        return {key: value for key, value in args.items() if value}


def display_timezone() -> tzinfo:
    """The zone dates are shown and filtered in (``FORMFLOW_TIMEZONE``, default Berlin)."""
    return display_zone()


def parse_filters(args: Mapping[str, str], user_id: int) -> FilterForm:
    """Read the inbox filters from query arguments; bad values are reported, not fatal."""
    found = FilterForm(
        form=args.get("form", "").strip()[:64],
        state=args.get("state", "").strip()[:64],
        date_from=args.get("from", "").strip()[:10],
        date_to=args.get("to", "").strip()[:10],
        q=args.get("q", "").strip()[:MAX_TEXT],
        mine=args.get("mine", "") in ("1", "on", "true"),
    )
    zone = display_timezone()
    created_from = _day_start(found.date_from, zone, found.errors, _("Received from"))
    created_before = _day_start(found.date_to, zone, found.errors, _("Received until"))
    if created_before is not None:
        created_before = _next_day(found.date_to, zone)
    found.where = InboxFilter(
        form_id=found.form or None,
        state=found.state or None,
        created_from=created_from,
        created_before=created_before,
        text=found.q or None,
        assigned_to=user_id if found.mine else None,
    )
    for name in ("before", "after"):
        cursor = args.get(name, "")
        if not cursor:
            continue
        try:
            setattr(found, name, decode_position(cursor))
        except InvalidInput:
            found.errors.append(_("The page link is not valid; showing the newest submissions."))
    if found.before is not None and found.after is not None:
        found.after = None
    return found


def _day_start(raw: str, zone: tzinfo, errors: list[str], name: str) -> datetime | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors.append(_("“%(name)s” is not a date (YYYY-MM-DD).", name=name))
        return None
    return datetime.combine(day, time.min, tzinfo=zone)


def _next_day(raw: str, zone: tzinfo) -> datetime:
    return datetime.combine(date.fromisoformat(raw) + timedelta(days=1), time.min, tzinfo=zone)


def format_datetime(value: datetime, language: str) -> str:
    return local_time(value, language)


def consent_items(consents: Iterable[Mapping[str, Any]], language: str) -> list[dict[str, Any]]:
    """Consent records as the pages list them: as stored, plus ``at_text``, the time in the
    display zone (the stored text when it is not a time)."""
    items = []
    for consent in consents:
        try:
            at_text = format_datetime(datetime.fromisoformat(str(consent.get("at"))), language)
        except ValueError:
            at_text = str(consent.get("at"))
        items.append({**consent, "at_text": at_text})
    return items


def _format_date(raw: str, language: str) -> str:
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return raw
    return day.strftime("%d.%m.%Y") if language == "de" else day.isoformat()


def state_label(workflow: WorkflowDefinition | None, state: str, language: str) -> str:
    if workflow is None:
        return state
    found = next((s for s in workflow.states if s.id == state), None)
    if found is None:
        return state
    return localize(found.label, language, "de") or state


def transition_label(workflow: WorkflowDefinition, transition_id: str, language: str) -> str:
    transition = workflow.transition(transition_id)
    if transition is None:
        return transition_id
    label = localize(transition.label, language, "de")
    if label:
        return label
    return f"{transition_id} → {state_label(workflow, transition.to, language)}"


@dataclass(frozen=True)
class AnswerRow:
    field_id: str
    label: str
    value: str
    multiline: bool = False
    files: tuple[tuple[str, str, int], ...] = ()
    """A file answer's files: (file id, name, size), for download links."""


def answer_sections(
    form: FormDefinition, answers: Mapping[str, Any], language: str
) -> list[tuple[str, list[AnswerRow]]]:
    """Per step of the pinned form version: (step title, answers with that version's labels).

    Fields the applicant never saw (hidden by a rule, so not stored) are left out; answers for
    ids the version does not know (should not happen) are listed at the end under their ids.
    """
    default = form.default_language
    sections = []
    known: set[str] = set()
    for step in form.steps:
        rows = []
        for form_field in step.fields:
            known.add(form_field.id)
            if not form_field.is_input or form_field.id not in answers:
                continue
            rows.append(
                AnswerRow(
                    field_id=form_field.id,
                    label=localize(form_field.label, language, default) or form_field.id,
                    value=_answer_text(form_field, answers[form_field.id], language),
                    multiline=form_field.type in ("textarea", "group", "file"),
                    files=tuple((ref["id"], ref["name"], ref["size"])
                                for ref in answers[form_field.id] or () if is_file_ref(ref))
                    if form_field.is_file and isinstance(answers[form_field.id], list) else (),
                )
            )
        if rows:
            sections.append((localize(step.title, language, default) or step.id, rows))
    extra = [
        AnswerRow(field_id=key, label=key, value=_plain(value))
        for key, value in answers.items()
        if key not in known
    ]
    if extra:
        sections.append((_("Other answers"), extra))
    return sections


def _answer_text(form_field: Field, value: Any, language: str) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if form_field.is_file and isinstance(value, list):
        return "\n".join(f"{ref['name']} ({size_text(ref['size'], language)})"
                         for ref in value if is_file_ref(ref))
    if form_field.is_group:
        return rows_text(
            form_field, value, lambda cell: localize(cell.label, language, "de") or cell.id,
            lambda cell, item: _plain(item) if cell is None else _answer_text(cell, item,
                                                                              language))
    default = "de"
    options = {o.value: localize(o.label, language, default) or o.value for o in form_field.options}
    if form_field.type in ("select", "radio"):
        return options.get(str(value), str(value))
    if form_field.type == "checkboxes" and isinstance(value, list):
        return ", ".join(options.get(str(v), str(v)) for v in value)
    if form_field.type == "checkbox":
        return _("Yes") if value is True else _("No")
    if form_field.type == "date" and isinstance(value, str):
        return _format_date(value, language)
    return _plain(value)


def _plain(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return "—" if value is None else str(value)


@dataclass(frozen=True)
class NotificationLine:
    text: str
    status: str
    """``sent``, ``failed``, ``pending`` or ``enqueued``: for styling and tests."""


@dataclass(frozen=True)
class TimelineEntry:
    at: str
    actor: str
    title: str
    comment: str | None
    """The message to the applicant (shown to them on their status page and in mails)."""
    note: str | None
    """Internal, staff only."""
    notifications: Sequence[NotificationLine]


def timeline(
    events: Iterable[EventRecord],
    notifications: Iterable[OutboxRecord],
    workflow: WorkflowDefinition,
    language: str,
    *,
    show_webhook_errors: bool = False,
) -> list[TimelineEntry]:
    """Events oldest first, each with the notifications it caused and how they went.

    A failed webhook's error quotes its receiver's reply — possibly a service inside the
    network the administrator pointed it at — so only administrators
    (``show_webhook_errors``) see it; others see that it failed.
    """
    by_event: dict[int, list[OutboxRecord]] = {}
    for row in notifications:
        by_event.setdefault(row.event_id, []).append(row)
    entries = []
    for event in events:
        if event.kind == "created":
            title = _("Received (state: %(state)s)",
                      state=state_label(workflow, event.to_state or "", language))
        elif event.kind == "transition":
            title = _("%(transition)s: %(from)s → %(to)s",
                      transition=transition_label(workflow, event.transition or "", language),
                      **{"from": state_label(workflow, event.from_state or "", language)},
                      to=state_label(workflow, event.to_state or "", language))
        elif event.kind == "assignment":
            title = (_("Assigned to %(user)s", user=event.comment) if event.comment
                     else _("Assignment removed"))
        elif event.kind == "workflow_move":
            title = _("Moved to another workflow version (%(versions)s)", versions=event.comment)
        elif event.kind == "erased":
            title = _("Personal data erased")
        else:
            title = _("Internal note")
        entries.append(
            TimelineEntry(
                at=format_datetime(event.at, language),
                actor=event.actor,
                title=title,
                comment=None if event.kind in ("assignment", "workflow_move") else event.comment,
                note=event.note,
                notifications=[_notification_line(n, language, show_webhook_errors)
                               for n in by_event.get(event.id, [])],
            )
        )
    return entries


def _notification_line(
    row: OutboxRecord, language: str, show_webhook_errors: bool
) -> NotificationLine:
    if row.channel == "webhook":
        target = _("Webhook")
    else:
        target = _("Email to %(recipient)s", recipient=row.recipient or _("(erased)"))
        if row.template:
            target += f" ({row.template})"
    if row.status == "sent":
        when = format_datetime(row.delivered_at, language) if row.delivered_at else ""
        text = _("%(target)s: sent %(when)s", target=target, when=when).strip()
    elif row.status == "failed" and row.channel == "webhook" and not show_webhook_errors:
        text = _("%(target)s: failed after %(attempts)s attempt(s)",
                 target=target, attempts=row.attempts)
    elif row.status == "cancelled":
        text = _("%(target)s: cancelled", target=target)
    elif row.status == "failed":
        text = _("%(target)s: failed after %(attempts)s attempt(s): %(error)s",
                 target=target, attempts=row.attempts, error=row.last_error or "?")
    else:
        text = _("%(target)s: waiting to be sent", target=target)
    return NotificationLine(text=text, status=row.status)


def submission_view(
    db: Database, record: SubmissionRecord, language: str, *, show_webhook_errors: bool
) -> tuple[WorkflowDefinition, dict[str, Any]]:
    """What a submission's page and its print view both show, from the form and workflow
    versions it is on: title, state, date received, answers by section, consents, history.
    The workflow comes back too, for the page's transition buttons."""
    forms, workflows = pinned_definitions(db, [record])
    form = forms[record.form_version_row]
    workflow = workflows[record.workflow_version_row]
    return workflow, {
        "submission": record,
        "form_title": localize(form.title, language, form.default_language) or form.id,
        "state": state_label(workflow, record.state, language),
        "created": format_datetime(record.created_at, language),
        "sections": answer_sections(form, record.answers, language),
        "consents": consent_items(record.consents, language),
        "events": timeline(history(db, record.id), notifications_for(db, record.id), workflow,
                           language, show_webhook_errors=show_webhook_errors),
    }
