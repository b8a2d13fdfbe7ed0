"""Index ``(form_id, state)``: the inbox's counts per state of one form, from the index alone.

The inbox shows, beside every list, how many submissions of the filtered form are in each
state (bounded, see ``engine.storage.inbox``); with this index those counts never visit the
table rows.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 02:55:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_submissions_form_id_state"), ["form_id", "state"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_submissions_form_id_state"))
