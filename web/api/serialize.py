"""The JSON shapes of the API (INTERFACES.md), built from the services' frozen records.

Kept apart from the views so the shapes are defined once and the OpenAPI schemas in
``web.api.openapi`` can be checked against what is really sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from engine.files import is_file_ref
from engine.model import Transition
from engine.records import DefinitionVersionRecord, EventRecord, SubmissionRecord

__all__ = [
    "APPLICANT_VISIBLE_EVENTS",
    "STAFF_ACTOR",
    "form_definition_json",
    "form_summary_json",
    "history_json",
    "submission_json",
    "timestamp",
]

APPLICANT_VISIBLE_EVENTS = frozenset({"created", "transition", "erased"})
"""An applicant sees how their submission moved and the messages meant for them (a
transition's ``comment``), never the staff's internal notes (``note``, plain comments)."""
STAFF_ACTOR = "staff"
"""What an applicant sees instead of a staff member's email address."""


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with offset; naive values from the database are UTC already."""
    aware = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return aware.isoformat()


def form_summary_json(record: DefinitionVersionRecord) -> dict[str, Any]:
    content = json.loads(record.content)
    return {"id": record.definition_id, "title": content.get("title"), "version": record.version}


def form_definition_json(record: DefinitionVersionRecord) -> dict[str, Any]:
    """The definition exactly as published (key order kept), plus its ``version``."""
    content = json.loads(record.content)
    return {**content, "version": record.version}


def history_json(events: Iterable[EventRecord], *, for_applicant: bool) -> list[dict[str, Any]]:
    entries = []
    for event in events:
        if for_applicant and event.kind not in APPLICANT_VISIBLE_EVENTS:
            continue
        actor = event.actor
        if for_applicant and event.kind != "created":
            actor = STAFF_ACTOR
        entry: dict[str, Any] = {
            "kind": event.kind,
            "transition": event.transition,
            "from": event.from_state,
            "to": event.to_state,
            "actor": actor,
            "comment": event.comment,
            "at": timestamp(event.at),
        }
        if not for_applicant:
            entry["note"] = event.note  # internal: the applicant's view has no such key
        entries.append(entry)
    return entries


def submission_json(
    submission: SubmissionRecord,
    events: Iterable[EventRecord],
    transitions: Iterable[Transition],
    *,
    for_applicant: bool,
    file_url: Callable[[str], str] | None = None,
) -> dict[str, Any]:
    answers = dict(submission.answers)
    if file_url is not None:  # a file answer: what a caller needs, and where to download it
        answers = {key: [{"name": ref["name"], "size": ref["size"], "type": ref["type"],
                          "sha256": ref["sha256"], "url": file_url(ref["id"])} for ref in value]
                   if isinstance(value, list) and value and all(is_file_ref(r) for r in value)
                   else value for key, value in answers.items()}
    return {
        "id": submission.id,
        "reference": submission.reference,
        "form": submission.form_id,
        "form_version": submission.form_version,
        "state": submission.state,
        "answers": answers,
        "erased_at": timestamp(submission.erased_at) if submission.erased_at else None,
        "consents": [dict(c) for c in submission.consents],
        "language": submission.language,
        "created_at": timestamp(submission.created_at),
        "updated_at": timestamp(submission.updated_at),
        "history": history_json(events, for_applicant=for_applicant),
        "transitions": [] if for_applicant else [t.id for t in transitions],
    }
