"""Events of kind ``workflow_move``: an administrator moved a submission to another version
of its workflow.

A submission keeps the workflow version it was made with unless an administrator moves it
explicitly (after publishing a new version); the move is recorded in the audit trail with
the actor, the state (unchanged) in ``from_state``/``to_state`` and the two version numbers
in ``comment`` (``"1 → 2"``).

Revision ID: 0012_workflow_moves
Revises: 0011_saved_views
Create Date: 2026-12-07 02:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0012_workflow_moves"
down_revision = "0011_saved_views"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_events_kind"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_events_kind"),
            "kind IN ('created', 'transition', 'comment', 'assignment', 'workflow_move')",
        )


def downgrade() -> None:
    op.execute(
        "UPDATE events SET kind = 'comment', comment = 'Workflow-Version ' || comment "
        "WHERE kind = 'workflow_move'"
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_events_kind"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_events_kind"),
            "kind IN ('created', 'transition', 'comment', 'assignment')",
        )
