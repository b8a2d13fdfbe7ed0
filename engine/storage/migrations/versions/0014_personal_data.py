"""Personal data: consent records, erased submissions, cancelled notifications, audit log.

- ``submissions.consents``: the record of each ticked ``"consent": true`` checkbox;
- ``submissions.erased_at``: set when the submission's personal data was erased (it is a
  tombstone from then on), by ``formflow data erase`` or by retention;
- events of kind ``erased`` (actor, time and reason in ``note``);
- outbox rows ``cancelled``: pending notifications of an erased submission are never sent;
- ``audit_log``: the append-only log of administrative actions.

Revision ID: 0014_personal_data
Revises: 0013_event_notes
Create Date: 2026-12-07 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_personal_data"
down_revision = "0013_event_notes"
branch_labels = None
depends_on = None

_KINDS = "'created', 'transition', 'comment', 'assignment', 'workflow_move'"
_STATUSES = "'pending', 'enqueued', 'sent', 'failed'"


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("consents", sa.JSON(), nullable=False, server_default=sa.text("'[]'"))
        )
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_events_kind"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_events_kind"), f"kind IN ({_KINDS}, 'erased')"
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_status"), type_="check")
        batch_op.create_check_constraint(
            batch_op.f("ck_outbox_status"), f"status IN ({_STATUSES}, 'cancelled')"
        )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_ref", sa.String(length=300), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
    op.drop_table("audit_log")
    # A cancelled notification was never sent and never will be: failed says so in the old
    # vocabulary. An erasure stays an event the old schema can hold: a plain comment.
    op.execute("UPDATE outbox SET status = 'failed' WHERE status = 'cancelled'")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_status"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_outbox_status"), f"status IN ({_STATUSES})")
    op.execute("UPDATE events SET kind = 'comment' WHERE kind = 'erased'")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_events_kind"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_events_kind"), f"kind IN ({_KINDS})")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
        batch_op.drop_column("consents")
