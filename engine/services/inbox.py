"""The coordinators' inbox: filtered lists across forms, counts per state, assignment.

Lists are newest first and paginated by keyset (see ``engine.storage.inbox``): a page is
addressed by an opaque cursor naming the last (or first) submission shown, so paging stays
cheap and stable however many submissions there are and however many arrive meanwhile.

Assignment is recorded twice, on purpose: in the submission (``assigned_to``, for the "mine"
filter) and as an ``assignment`` event in its history (who assigned whom, when; the assignee's
address in ``comment``, None when unassigned), in one transaction, because the events table
is the audit trail. Pages word the event in the reader's language.

Bulk actions (:func:`bulk_transition`, :func:`bulk_assign`) act on each selected submission
exactly as if it had been done one by one — through ``fire_transition`` / ``assign_submission``,
each in its own transaction with all their checks — and report per submission what happened,
so one refusal never undoes or blocks the others.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import TYPE_CHECKING

from engine.exceptions import (
    FormflowError,
    InvalidInput,
    NotFound,
    StaleState,
    StorageUnavailable,
)
from engine.model import FormDefinition, WorkflowDefinition
from engine.records import InboxFilter, Position
from engine.services.loading import form_of, workflow_of
from engine.services.transitions import fire_transition

if TYPE_CHECKING:
    from engine.records import (
        DefinitionVersionRecord,
        SavedViewRecord,
        SubmissionRecord,
        UserRecord,
    )
    from engine.storage import Database


__all__ = [
    "ASSIGNABLE_ROLES",
    "MAX_BULK",
    "BulkOutcome",
    "DEFAULT_COUNT_CAP",
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "InboxFilter",
    "InboxPage",
    "Position",
    "StateAge",
    "assign_submission",
    "assignable_users",
    "bulk_assign",
    "bulk_transition",
    "decode_position",
    "delete_view",
    "encode_position",
    "inbox_page",
    "known_states",
    "pinned_definitions",
    "save_view",
    "saved_views",
    "state_ages",
]

DEFAULT_PAGE_SIZE = 50
DEFAULT_COUNT_CAP = 10_000
"""Counts per state stop at this many (shown as "10,000+"): exact counts of millions of rows
would cost a full index scan on every page view and tell a coordinator nothing more."""
MAX_PAGE_SIZE = 200
ASSIGNABLE_ROLES = ("coordinator", "admin")
"""Who can be given a submission to work on."""
MAX_BULK = 200
"""At most this many submissions per bulk action (one inbox page at its largest)."""


@dataclass(frozen=True, slots=True)
class BulkOutcome:
    """What one bulk action did to one submission: ``error`` is None when it succeeded."""

    submission_id: str
    reference: str
    error: Exception | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class InboxPage:
    submissions: list[SubmissionRecord]
    newer: Position | None
    """Cursor for the previous (newer) page, None on the first page."""
    older: Position | None
    """Cursor for the next (older) page, None on the last page."""
    counts: dict[str, int] = field(default_factory=dict)
    """Matching submissions per state, ignoring the state filter (for the state tabs);
    at most ``count_cap`` each — see ``capped``."""
    capped: frozenset[str] = frozenset()
    """States with more than ``count_cap`` matches: their count means "at least"."""
    count_cap: int = 0


def inbox_page(
    db: Database,
    where: InboxFilter,
    *,
    before: Position | None = None,
    after: Position | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
    with_counts: bool = True,
    count_cap: int = DEFAULT_COUNT_CAP,
) -> InboxPage:
    """One page of matching submissions, newest first, in one consistent snapshot.

    ``before``: the page older than that position; ``after``: the page newer than it; neither:
    the newest page. ``InvalidInput`` for a page size out of range or both cursors at once.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput("limit", f"a page holds 1 to {MAX_PAGE_SIZE} submissions")
    if before is not None and after is not None:
        raise InvalidInput("cursor", "page either before or after a position, not both")
    states = known_states(db) if with_counts else ()
    with db.read() as store:
        inbox = store.inbox
        rows = inbox.page(where, before=before, after=after, limit=limit + 1)
        if after is not None:
            more_newer = len(rows) > limit
            rows = rows[-limit:] if more_newer else rows
            more_older = bool(rows) and bool(inbox.page(where, before=_position(rows[-1]),
                                                        limit=1))
            if not rows:  # nothing newer than the cursor: show the newest page instead
                rows = inbox.page(where, limit=limit + 1)
                more_older, rows = len(rows) > limit, rows[:limit]
        else:
            more_older = len(rows) > limit
            rows = rows[:limit]
            more_newer = before is not None and bool(rows) and bool(
                inbox.page(where, after=_position(rows[0]), limit=1)
            )
        raw = inbox.count_by_state(where, states, count_cap) if with_counts else {}
    if where.text and sum(raw.values()) > count_cap:
        capped = frozenset(raw)  # one shared bounded scan: every count is "at least"
    else:
        capped = frozenset(state for state, n in raw.items() if n > count_cap)
    return InboxPage(
        submissions=rows,
        newer=_position(rows[0]) if rows and more_newer else None,
        older=_position(rows[-1]) if rows and more_older else None,
        counts={state: min(n, count_cap) for state, n in raw.items()},
        capped=capped,
        count_cap=count_cap,
    )


def known_states(db: Database) -> tuple[str, ...]:
    """Every state id of every stored workflow version, in definition order."""
    with db.read() as store:
        rows = store.inbox.workflow_version_rows()
        records = store.definitions.by_row_ids(rows)
    states: dict[str, None] = {}
    for row_id in rows:
        for state in workflow_of(db, records[row_id]).states:
            states.setdefault(state.id, None)
    return tuple(states)


def encode_position(position: Position) -> str:
    """An opaque, URL-safe cursor for ``position``."""
    raw = f"{position.created_at.isoformat()}|{position.id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_position(cursor: str) -> Position:
    """The position of a cursor from :func:`encode_position`; ``InvalidInput`` otherwise."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        created, _sep, submission_id = (
            base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8").partition("|")
        )
        at = datetime.fromisoformat(created)
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidInput("cursor", "not a page cursor of this inbox") from None
    if at.tzinfo is None or not submission_id or len(submission_id) > 32:
        raise InvalidInput("cursor", "not a page cursor of this inbox")
    return Position(at, submission_id)


def assignable_users(db: Database) -> list[UserRecord]:
    """Active coordinators and administrators, by email."""
    with db.read() as store:
        users = {u.id: u for role in ASSIGNABLE_ROLES for u in store.accounts.users_with_role(role)}
    return sorted(users.values(), key=lambda u: u.email)


def assign_submission(
    db: Database,
    submission_id: str,
    assignee_id: int | None,
    *,
    actor: str,
    expected_assignee: int | None = None,
    check_expected: bool = False,
) -> SubmissionRecord:
    """Give the submission to ``assignee_id`` (None: to nobody) and note it in the history.

    ``InvalidInput`` when the assignee is not an active coordinator or administrator,
    ``NotFound`` for an unknown submission, ``StaleState`` when someone changed the submission
    at the same moment (or, with ``check_expected``, when it is no longer assigned to
    ``expected_assignee`` — someone else took it meanwhile).
    """
    with db.transaction() as store:
        submission = store.submissions.get(submission_id)
        if submission is None:
            raise NotFound(f"there is no submission {submission_id!r}")
        if check_expected and submission.assigned_to != expected_assignee:
            raise StaleState("someone else changed the assignment meanwhile; look again")
        assignee = None
        if assignee_id is not None:
            assignee = store.accounts.user_by_id(assignee_id)
            if (
                assignee is None
                or not assignee.active
                or not any(role in assignee.roles for role in ASSIGNABLE_ROLES)
            ):
                raise InvalidInput("assignee", "only an active coordinator can be assigned")
        if submission.assigned_to == assignee_id:
            return submission  # nothing to change, nothing to note
        if not store.submissions.assign(submission.id, submission.version, assignee_id):
            raise StaleState("someone else changed this submission at the same time; try again")
        store.events.add(submission_id=submission.id, kind="assignment", actor=actor,
                         comment=assignee.email if assignee else None)
        updated = store.submissions.get(submission.id)
    assert updated is not None
    return updated


def bulk_transition(
    db: Database,
    submission_ids: Iterable[str],
    transition_id: str,
    *,
    actor: str,
    roles: Iterable[str],
    comment: str | None = None,
) -> list[BulkOutcome]:
    """Fire ``transition_id`` on each submission, one by one (see the module docstring)."""
    roles = tuple(roles)
    return [
        _one(db, submission_id, lambda sid: fire_transition(
            db, sid, transition_id, actor=actor, roles=roles, comment=comment).submission)
        for submission_id in _bulk_ids(submission_ids)
    ]


def bulk_assign(
    db: Database, submission_ids: Iterable[str], assignee_id: int | None, *, actor: str
) -> list[BulkOutcome]:
    """Give each submission to ``assignee_id`` (None: to nobody), one by one."""
    return [
        _one(db, submission_id,
             lambda sid: assign_submission(db, sid, assignee_id, actor=actor))
        for submission_id in _bulk_ids(submission_ids)
    ]


def _bulk_ids(submission_ids: Iterable[str]) -> list[str]:
    """The selection without repeats; ``InvalidInput`` when it is empty or too large."""
    unique = list(dict.fromkeys(s for s in submission_ids if s))
    if not unique:
        raise InvalidInput("selection", "select at least one submission")
    if len(unique) > MAX_BULK:
        raise InvalidInput("selection", f"select at most {MAX_BULK} submissions at once")
    return unique


def _one(
    db: Database, submission_id: str, act: Callable[[str], SubmissionRecord]
) -> BulkOutcome:
    if len(submission_id) > 32:
        return BulkOutcome(submission_id, submission_id, NotFound("no such submission"))
    try:
        done = act(submission_id)
    except StorageUnavailable:
        raise
    except FormflowError as exc:
        reference = submission_id
        with db.read() as store:
            found = store.submissions.get(submission_id)
        if found is not None:
            reference = found.reference
        return BulkOutcome(submission_id, reference, exc)
    return BulkOutcome(submission_id, done.reference)


@dataclass(frozen=True, slots=True)
class StateAge:
    """How long a submission has been in its state, in calendar days of the display zone."""

    days: int
    overdue_days: int | None = None
    """Days past the state's ``due_days``; None when it declares none or is not yet due."""
    final: bool = False
    """The state ends the process: its age says nothing (pages leave it out)."""


def state_ages(
    db: Database,
    submissions: Sequence[SubmissionRecord],
    workflows: Mapping[int, WorkflowDefinition],
    today: date,
    zone: tzinfo,
) -> dict[str, StateAge]:
    """Each submission's age in its state; overdue once more than ``due_days`` calendar days
    (in ``zone``, ``today`` being the day there now) have passed since it entered it."""
    with db.read() as store:
        entered = store.inbox.state_entered(submissions)
    ages: dict[str, StateAge] = {}
    for submission in submissions:
        at = entered[submission.id]
        aware = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
        days = max(0, (today - aware.astimezone(zone).date()).days)
        workflow = workflows[submission.workflow_version_row]
        state = next((s for s in workflow.states if s.id == submission.state), None)
        due = state.due_days if state is not None else None
        late = days - due if due is not None and days > due else None
        ages[submission.id] = StateAge(days, late, state is not None and state.final)
    return ages


MAX_VIEW_NAME = 80
MAX_VIEW_QUERY = 1000


def saved_views(db: Database, user_id: int) -> list[SavedViewRecord]:
    """The user's saved inbox views, by name."""
    with db.read() as store:
        return store.views.for_user(user_id)


def save_view(db: Database, user_id: int, name: str, query: str) -> None:
    """Save the inbox filter ``query`` (a query string) as ``name``, replacing a view of the
    same name; ``InvalidInput`` for an empty or overlong name or query."""
    name = " ".join(name.split())
    if not name or len(name) > MAX_VIEW_NAME:
        raise InvalidInput("name", f"a view's name has 1 to {MAX_VIEW_NAME} characters")
    if len(query) > MAX_VIEW_QUERY:
        raise InvalidInput("query", "this filter is too long to save")
    with db.transaction() as store:
        store.views.save(user_id, name, query)


def delete_view(db: Database, user_id: int, view_id: int) -> None:
    """Delete one of the user's views; ``NotFound`` when the user has no such view."""
    with db.transaction() as store:
        if not store.views.delete(user_id, view_id):
            raise NotFound(f"there is no saved view {view_id}")


def pinned_definitions(
    db: Database, submissions: Iterable[SubmissionRecord]
) -> tuple[dict[int, FormDefinition], dict[int, WorkflowDefinition]]:
    """The form and workflow versions ``submissions`` are pinned to, by version row id.

    A page of fifty submissions usually shares two or three versions: they are read in one
    query, and each is loaded once per content (``engine.services.loading``).
    """
    wanted_forms = {s.form_version_row for s in submissions}
    wanted_workflows = {s.workflow_version_row for s in submissions}
    records = _version_records(db, wanted_forms | wanted_workflows)
    forms = {row: form_of(db, records[row]) for row in wanted_forms}
    workflows = {row: workflow_of(db, records[row]) for row in wanted_workflows}
    return forms, workflows


def _version_records(db: Database, row_ids: set[int]) -> dict[int, DefinitionVersionRecord]:
    with db.read() as store:
        found = store.definitions.by_row_ids(row_ids)
    missing = row_ids - set(found)
    if missing:  # foreign keys make this impossible
        raise NotFound(f"definition version rows {sorted(missing)} are missing")
    return found


def _position(submission: SubmissionRecord) -> Position:
    return Position(submission.created_at, submission.id)
