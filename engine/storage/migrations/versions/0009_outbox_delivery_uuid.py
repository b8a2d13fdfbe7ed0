"""Outbox rows get a random delivery id (a UUID) at insert.

Redis receipts, RQ job ids, locks, the mails' ``Message-ID`` and the webhooks'
``X-Formflow-Delivery`` used to be derived from the row's integer id or from its event's id.
Both start again after a database restore, and two installations sharing one Redis count the
same ids, so a new notification could find an old one's receipt (and be skipped) or reuse a
delivered ``Message-ID`` (and be dropped by a receiver). A random UUID per row cannot repeat.

Existing rows get fresh UUIDs here. On SQLite the column becomes NOT NULL through a table
copy, which would lose the two partial indexes: they are dropped first and made again after,
as 0008 did.

Revision ID: 0009_outbox_delivery_uuid
Revises: 0008
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0009_outbox_delivery_uuid"
down_revision = "0008"
branch_labels = None
depends_on = None

WITH_DRAFT = "draft_id IS NOT NULL"


def _draft_index(name: str, columns: list[str], *, unique: bool) -> None:
    op.create_index(
        name, "outbox", columns, unique=unique,
        sqlite_where=sa.text(WITH_DRAFT), postgresql_where=sa.text(WITH_DRAFT),
    )


def _drop_draft_indexes() -> None:
    op.drop_index("ix_outbox_draft_id", table_name="outbox")
    op.drop_index("ix_outbox_delivery_key", table_name="outbox")


def _create_draft_indexes() -> None:
    _draft_index("ix_outbox_delivery_key", ["delivery_key"], unique=True)
    _draft_index("ix_outbox_draft_id", ["draft_id"], unique=False)


def upgrade() -> None:
    op.add_column("outbox", sa.Column("delivery_id", sa.String(length=36), nullable=True))
    outbox = sa.table("outbox", sa.column("id", sa.Integer),
                      sa.column("delivery_id", sa.String(length=36)))
    bind = op.get_bind()
    ids = bind.execute(sa.select(outbox.c.id)).scalars().all()
    for outbox_id in ids:
        bind.execute(sa.update(outbox).where(outbox.c.id == outbox_id)
                     .values(delivery_id=str(uuid.uuid4())))
    _drop_draft_indexes()
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.alter_column("delivery_id", existing_type=sa.String(length=36),
                              nullable=False)
        batch_op.create_unique_constraint("uq_outbox_delivery_id", ["delivery_id"])
    _create_draft_indexes()


def downgrade() -> None:
    _drop_draft_indexes()
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_delivery_id", type_="unique")
        batch_op.drop_column("delivery_id")
    _create_draft_indexes()
