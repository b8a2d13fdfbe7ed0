"""Moving a submission through its workflow, safely under concurrency.

``fire_transition`` reads the submission, lets the engine decide (``engine.workflows.fire``:
role, source state, guard, comment policy), then writes the new state with
``UPDATE … WHERE id = ? AND version = ?``. If two coordinators act at once, exactly one
update matches; the other gets ``StaleState`` (HTTP 409) and its transaction — event and
notifications included — is rolled back, so nothing is ever half-written.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.exceptions import NotFound, StaleState
from engine.model import Transition
from engine.services.comments import checked_comment
from engine.services.loading import compiled_workflow, form_of, guard_for
from engine.services.notifications import queue_notifications
from engine.workflows import available_transitions, fire

if TYPE_CHECKING:
    from engine.records import (
        DefinitionVersionRecord,
        EventRecord,
        OutboxRecord,
        SubmissionRecord,
    )
    from engine.storage import Database


__all__ = ["TransitionFired", "fire_transition", "transitions_for"]


@dataclass(frozen=True, slots=True)
class TransitionFired:
    submission: SubmissionRecord
    """The submission after the change (new state and version)."""
    event: EventRecord
    notifications: tuple[OutboxRecord, ...]


def fire_transition(
    db: Database,
    submission_id: str,
    transition_id: str,
    *,
    actor: str,
    roles: Iterable[str],
    comment: str | None = None,
    note: str | None = None,
    expected_state: str | None = None,
) -> TransitionFired:
    """Fire one transition; raises ``NotFound`` or a ``TransitionError`` and changes nothing.

    ``comment`` is the message to the applicant (the workflow's comment policy applies to it;
    mail templates see it as ``transition.comment``); ``note`` is internal text for staff,
    always allowed, never shown to the applicant nor given to templates.

    ``expected_state``: the state the caller saw; if the submission has moved on meanwhile,
    ``StaleState`` is raised instead of acting on a state the caller never looked at.
    """
    roles = tuple(roles)
    internal = (checked_comment(note, field="note") or "").strip() or None
    submission, form_record, workflow_record = _load(db, submission_id)
    workflow = compiled_workflow(db, workflow_record)
    outcome = fire(
        workflow,
        submission.state,
        transition_id,
        roles=roles,
        answers=submission.answers,
        comment=checked_comment(comment),
        expected_state=expected_state,
        guard=guard_for(db, workflow_record, form_record),
        actor=actor,
    )
    with db.transaction() as store:
        if not store.submissions.change_state(submission.id, submission.version, outcome.to_state):
            raise StaleState(
                "someone else changed this submission at the same time; reload it and try again"
            )
        updated = store.submissions.get(submission.id)
        assert updated is not None
        event = store.events.add(
            submission_id=submission.id,
            kind="transition",
            actor=actor,
            transition=outcome.transition,
            from_state=outcome.from_state,
            to_state=outcome.to_state,
            comment=outcome.comment,
            note=internal,
        )
        rows = queue_notifications(
            store,
            submission=updated,
            event=event,
            notifications=outcome.notifications,
            form=form_of(db, form_record),
        )
    return TransitionFired(updated, event, tuple(rows))


def transitions_for(
    db: Database, submission: SubmissionRecord, roles: Iterable[str]
) -> list[Transition]:
    """The transitions the caller may fire now (role, state, guard), in definition order."""
    form_record, workflow_record = _pinned(db, submission)
    return available_transitions(
        compiled_workflow(db, workflow_record),
        submission.state,
        roles=tuple(roles),
        answers=submission.answers,
        guard=guard_for(db, workflow_record, form_record),
    )


def _load(
    db: Database, submission_id: str
) -> tuple[SubmissionRecord, DefinitionVersionRecord, DefinitionVersionRecord]:
    with db.read() as store:
        submission = store.submissions.get(submission_id)
        if submission is None:
            raise NotFound(f"there is no submission {submission_id!r}")
        form_record = store.definitions.by_row_id(submission.form_version_row)
        workflow_record = store.definitions.by_row_id(submission.workflow_version_row)
    assert form_record is not None and workflow_record is not None  # foreign keys
    return submission, form_record, workflow_record


def _pinned(
    db: Database, submission: SubmissionRecord
) -> tuple[DefinitionVersionRecord, DefinitionVersionRecord]:
    with db.read() as store:
        form_record = store.definitions.by_row_id(submission.form_version_row)
        workflow_record = store.definitions.by_row_id(submission.workflow_version_row)
    assert form_record is not None and workflow_record is not None  # foreign keys
    return form_record, workflow_record
