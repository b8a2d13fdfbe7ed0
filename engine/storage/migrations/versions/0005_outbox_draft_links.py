"""Outbox rows for drafts: the mail that carries an applicant's resume link.

A row now belongs either to a submission event (as before) or to a draft; ``subject`` keeps
every row tied to one of them. Draft rows go with their draft (``ON DELETE CASCADE``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 05:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SUBJECT = "(submission_id IS NOT NULL AND event_id IS NOT NULL) OR draft_id IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft_id", sa.String(length=32), nullable=True))
        batch_op.alter_column("submission_id", existing_type=sa.String(length=32),
                              nullable=True)
        batch_op.alter_column("event_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_outbox_draft_id"), ["draft_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_draft_id_drafts"), "drafts", ["draft_id"], ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_check_constraint(batch_op.f("ck_outbox_subject"), SUBJECT)


def downgrade() -> None:
    op.execute("DELETE FROM outbox WHERE submission_id IS NULL")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_subject"), type_="check")
        batch_op.drop_constraint(batch_op.f("fk_outbox_draft_id_drafts"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_outbox_draft_id"))
        batch_op.alter_column("event_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("submission_id", existing_type=sa.String(length=32),
                              nullable=False)
        batch_op.drop_column("draft_id")
