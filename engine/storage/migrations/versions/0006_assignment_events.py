"""Events of kind ``assignment``: who gave a submission to whom, in the audit trail.

Until now an assignment was written as a comment with a German sentence in it, which an
English page could not translate and a report could not tell from a real comment. The new
kind keeps the assignee's address in ``comment`` (empty when unassigned). Earlier assignment
comments stay as they were: the trail is append-only.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 05:45:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_events_kind"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_events_kind"),
            "kind IN ('created', 'transition', 'comment', 'assignment')",
        )


def downgrade() -> None:
    op.execute(
        "UPDATE events SET kind = 'comment', comment = 'Zugewiesen an ' || comment "
        "WHERE kind = 'assignment' AND comment IS NOT NULL"
    )
    op.execute(
        "UPDATE events SET kind = 'comment', comment = 'Zuweisung aufgehoben' "
        "WHERE kind = 'assignment'"
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_events_kind"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_events_kind"), "kind IN ('created', 'transition', 'comment')"
        )
