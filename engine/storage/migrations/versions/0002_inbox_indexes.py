"""Indexes for the coordinators' inbox: newest-first keyset pages, by state, by assignee.

Every inbox list orders by ``(created_at DESC, id DESC)`` and pages by keyset on that pair;
these composite indexes let the database walk that order directly (overall, within one state,
within one coordinator's assignments) instead of sorting every matching row. The form filter
uses the existing ``(form_id, created_at)`` index.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 03:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submissions_created_at_id"), ["created_at", "id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_submissions_state_created_at_id"),
            ["state", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_submissions_assigned_to_created_at_id"),
            ["assigned_to", "created_at", "id"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_assigned_to_created_at_id"))
        batch_op.drop_index(batch_op.f("ix_submissions_state_created_at_id"))
        batch_op.drop_index(batch_op.f("ix_submissions_created_at_id"))
