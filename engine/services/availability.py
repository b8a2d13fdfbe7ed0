"""Whether a form takes a submission now, and into which state (engine/availability.py).

``admission`` runs inside ``submit``'s write transaction. For a form with a ``capacity`` it
first locks the form's head row (``DefinitionRepository.lock``: ``SELECT … FOR UPDATE`` on
PostgreSQL, where READ COMMITTED lets the count that follows see every submission committed
before the lock was granted; on SQLite write transactions begin ``IMMEDIATE`` and queue), then
counts the places held. Two applicants racing for the last place are thus served one after
the other: the second sees the first's submission and is refused or waitlisted. ``availability``
is the read-only view of the same for pages and the API, which may be stale by the time the
applicant submits; ``submit`` decides.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from engine.availability import (
    DEFAULT_ZONE,
    Availability,
    Limits,
    limits_of,
    local_moment,
    window_status,
)
from engine.exceptions import FormUnavailable, NotFound
from engine.model import FormDefinition, WorkflowDefinition
from engine.services.loading import form_of, workflow_of

if TYPE_CHECKING:
    from engine.storage import Database, Store

__all__ = ["admission", "availability", "raise_unless_accepting"]


def _held_places(db: Database, store: Store, form_id: str) -> int:
    """Submissions of the form neither in a final state nor on the waiting list of the
    workflow version they are on."""
    counts = store.submissions.state_counts(form_id)
    records = store.definitions.by_row_ids({row for row, _state, _n in counts})
    held = 0
    for row, state, number in counts:
        workflow = workflow_of(db, records[row])
        final = {s.id for s in workflow.states if s.final}
        if state not in final and state != workflow.source.get("waitlist_state"):
            held += number
    return held


def _status(db: Database, store: Store, form: FormDefinition, limits: Limits,
            workflow: WorkflowDefinition | None, zone: tzinfo, now: datetime) -> Availability:
    window = window_status(limits, now, zone)
    if window != "open" or limits.capacity is None:
        return Availability(window, limits)
    taken = _held_places(db, store, form.id)
    if taken < limits.capacity:
        return Availability("open", limits, taken)
    waitlist = (limits.waitlist and workflow is not None
                and workflow.source.get("waitlist_state") is not None)
    return Availability("waitlist" if waitlist else "full", limits, taken)


def raise_unless_accepting(found: Availability, zone: tzinfo) -> None:
    if found.accepts:
        return
    limits = found.limits
    raise FormUnavailable(
        found.status,
        opens_at=local_moment(limits.opens_at, zone) if limits.opens_at else None,
        closes_at=local_moment(limits.closes_at, zone) if limits.closes_at else None,
    )


def admission(db: Database, store: Store, form: FormDefinition, workflow: WorkflowDefinition,
              zone: tzinfo | None = None) -> str:
    """The state a new submission of ``form`` enters now (the initial state, or the waiting
    list's); ``FormUnavailable`` when the form takes none. Call inside the write transaction
    that stores the submission."""
    limits = limits_of(form)
    if not limits.any:
        return workflow.initial
    zone = zone or DEFAULT_ZONE
    if limits.capacity is not None:
        store.definitions.lock("form", form.id)
    found = _status(db, store, form, limits, workflow, zone, store.now)
    raise_unless_accepting(found, zone)
    if found.status == "waitlist":
        return str(workflow.source["waitlist_state"])
    return workflow.initial


def availability(db: Database, form_id: str, zone: tzinfo | None = None,
                 now: datetime | None = None) -> Availability:
    """Whether the published form takes submissions now (for pages and the API; ``submit``
    decides again under its lock). ``NotFound`` when the form is not published."""
    with db.read() as store:
        record = store.definitions.published("form", form_id)
        if record is None:
            raise NotFound(f"there is no published form {form_id!r}")
        form = form_of(db, record)
        limits = limits_of(form)
        if not limits.any:
            return Availability("open", limits)
        workflow_record = store.definitions.published("workflow", form.workflow)
        workflow = workflow_of(db, workflow_record) if workflow_record is not None else None
        return _status(db, store, form, limits, workflow, zone or DEFAULT_ZONE, now or store.now)
