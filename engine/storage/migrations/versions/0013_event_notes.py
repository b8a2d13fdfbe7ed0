"""Events get a ``note``: the staff's internal text, never shown to the applicant.

A transition used to carry one ``comment``, which the applicant's status page shows, so a
coordinator could not write down why without telling the applicant. Now ``comment`` is the
message to the applicant and ``note`` the internal one. A plain comment written without a
transition (kind ``comment``) was always internal: its text moves from ``comment`` to ``note``
so that "comment = for the applicant, note = staff only" holds for every event.

Downgrading moves plain comments back and keeps each transition's note as a plain comment
event of its own (same submission, actor and time), so no internal text becomes visible.

Revision ID: 0013_event_notes
Revises: 0012_workflow_moves
Create Date: 2026-12-07 02:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_event_notes"
down_revision = "0012_workflow_moves"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("events", sa.Column("note", sa.Text(), nullable=True))
    op.execute("UPDATE events SET note = comment, comment = NULL WHERE kind = 'comment'")


def downgrade() -> None:
    op.execute(
        "INSERT INTO events (submission_id, kind, actor, comment, at) "
        "SELECT submission_id, 'comment', actor, note, at FROM events "
        "WHERE kind = 'transition' AND note IS NOT NULL ORDER BY id"
    )
    op.execute("UPDATE events SET comment = note WHERE kind = 'comment' AND note IS NOT NULL")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("note")
