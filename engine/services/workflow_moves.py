"""Moving open submissions to the published version of their workflow, on an admin's word.

A submission keeps the workflow version it was made with: publishing a new workflow version
changes nothing for the submissions already made. After publishing, an administrator sees the
open submissions (not in a final state) still on an older version and may move them. A move
is offered only where the submission's current state exists in the new version; the state
itself never changes. Each move is written with the optimistic version check and recorded as
an event of kind ``workflow_move`` with the actor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from engine.exceptions import NotFound
from engine.services.loading import workflow_of

if TYPE_CHECKING:
    from engine.records import SubmissionRecord
    from engine.storage import Database, Store

__all__ = [
    "MoveCandidate",
    "MoveOutcome",
    "MovePlan",
    "RefusalReason",
    "move_submissions",
    "open_on_older_versions",
]

RefusalReason = Literal[
    "not_found", "other_workflow", "already_current", "final", "state_missing", "changed"
]
"""Why a submission was not moved: unknown id, it belongs to another workflow, it is on the
published version already, it is in a final state, its state does not exist in the published
version, or someone changed it in the meantime."""


@dataclass(frozen=True, slots=True)
class MoveCandidate:
    submission_id: str
    reference: str
    form_id: str
    state: str
    from_version: int
    movable: bool
    """True when ``state`` exists in the published version (only then is a move offered)."""


@dataclass(frozen=True, slots=True)
class MovePlan:
    workflow_id: str
    version: int
    """The published version the submissions would move to."""
    candidates: tuple[MoveCandidate, ...]

    @property
    def movable(self) -> tuple[MoveCandidate, ...]:
        return tuple(c for c in self.candidates if c.movable)

    @property
    def stuck(self) -> tuple[MoveCandidate, ...]:
        return tuple(c for c in self.candidates if not c.movable)


@dataclass(frozen=True, slots=True)
class MoveOutcome:
    version: int
    moved: tuple[str, ...]
    """References of the submissions moved, in the order asked."""
    refused: tuple[tuple[str, RefusalReason], ...]
    """(reference, or the id when unknown; reason) for each submission not moved."""


def open_on_older_versions(db: Database, workflow_id: str) -> MovePlan:
    """The open submissions on any version of ``workflow_id`` but the published one.

    ``NotFound`` when the workflow has no published version.
    """
    with db.read() as store:
        target = store.definitions.published("workflow", workflow_id)
        if target is None:
            raise NotFound(f"there is no published workflow {workflow_id!r}")
        target_states = {s.id for s in workflow_of(db, target).states}
        candidates: list[MoveCandidate] = []
        for record in store.definitions.versions("workflow", workflow_id):
            if record.row_id == target.row_id:
                continue
            open_states = {s.id for s in workflow_of(db, record).states if not s.final}
            for submission in store.submissions.on_workflow_version(record.row_id, open_states):
                candidates.append(MoveCandidate(
                    submission_id=submission.id,
                    reference=submission.reference,
                    form_id=submission.form_id,
                    state=submission.state,
                    from_version=record.version,
                    movable=submission.state in target_states,
                ))
    return MovePlan(workflow_id, target.version, tuple(candidates))


def move_submissions(
    db: Database, workflow_id: str, submission_ids: Iterable[str], *, actor: str
) -> MoveOutcome:
    """Move each submission to the published version of ``workflow_id`` where allowed.

    All in one transaction; a submission that may not move is listed in ``refused`` with
    the reason and left as it is. ``NotFound`` when the workflow has no published version.
    """
    moved: list[str] = []
    refused: list[tuple[str, RefusalReason]] = []
    with db.transaction() as store:
        target = store.definitions.published("workflow", workflow_id)
        if target is None:
            raise NotFound(f"there is no published workflow {workflow_id!r}")
        target_states = {s.id for s in workflow_of(db, target).states}
        for submission_id in dict.fromkeys(submission_ids):
            submission = store.submissions.get(submission_id)
            if submission is None:
                refused.append((submission_id, "not_found"))
                continue
            reason = _refusal(db, store, submission, workflow_id, target.row_id, target_states)
            if reason is None and not store.submissions.move_workflow(
                submission.id, submission.version, target.row_id
            ):
                reason = "changed"
            if reason is not None:
                refused.append((submission.reference, reason))
                continue
            store.events.add(
                submission_id=submission.id,
                kind="workflow_move",
                actor=actor,
                from_state=submission.state,
                to_state=submission.state,
                comment=f"{submission.workflow_version} → {target.version}",
            )
            moved.append(submission.reference)
    return MoveOutcome(target.version, tuple(moved), tuple(refused))


def _refusal(
    db: Database,
    store: Store,
    submission: SubmissionRecord,
    workflow_id: str,
    target_row: int,
    target_states: set[str],
) -> RefusalReason | None:
    if submission.workflow_id != workflow_id:
        return "other_workflow"
    if submission.workflow_version_row == target_row:
        return "already_current"
    if submission.state not in target_states:
        return "state_missing"
    record = store.definitions.by_row_id(submission.workflow_version_row)
    if record is not None:
        finals = {s.id for s in workflow_of(db, record).states if s.final}
        if submission.state in finals:
            return "final"
    return None
