"""The outbox's delivery keys unique per submission: one random-key index less per row.

Every outbox row wrote an entry into two indexes on random keys: ``uq_outbox_delivery_key``
(a sha256 hex) and ``ix_outbox_submission_id`` (a uuid4 hex). Each entry lands on a random
leaf, so the two rows of a submission dirtied ~4.4 index pages per commit (~2.9 of them the
delivery keys: the two keys share no leaf). Both go; one unique index on
``(submission_id, delivery_key)`` takes their place:

* it serves everything ``ix_outbox_submission_id`` served — a submission's rows
  (``submission_id = ?``) and the ``ON DELETE CASCADE`` of the submissions foreign key;
* a submission's rows share one leaf in it (same leading key), so two rows cost one page;
* the uniqueness it keeps is the one that can be broken: a delivery key is the sha256 of the
  event's id, the notification's place, the channel and the destination, so the same key
  twice means the same delivery written twice — of the same event, hence of the same
  submission. (A key shared by two submissions would be a sha256 collision.)
* The key itself is unchanged (it is the mail's ``Message-ID`` and the webhook's delivery
  id): nothing about ordering becomes visible to receivers.

Rows without a submission (a draft's resume-link mail) are NULL in ``submission_id``, where
a unique index checks nothing, and they are the only rows looked up by key
(``OutboxRepository.has_delivery_key``): a partial unique index of their keys,
``WHERE draft_id IS NOT NULL``, keeps both — no entry for a submission's rows.

On SQLite dropping the table's UNIQUE constraint means copying the table (batch mode), as
0005 did; the partial draft index is dropped first and made again after the copy.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27 10:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

WITH_DRAFT = "draft_id IS NOT NULL"


def _draft_index(name: str, columns: list[str], *, unique: bool) -> None:
    op.create_index(
        name, "outbox", columns, unique=unique,
        sqlite_where=sa.text(WITH_DRAFT), postgresql_where=sa.text(WITH_DRAFT),
    )


def upgrade() -> None:
    op.drop_index("ix_outbox_draft_id", table_name="outbox")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint("uq_outbox_delivery_key", type_="unique")
        batch_op.drop_index("ix_outbox_submission_id")
    op.create_index(
        "ix_outbox_submission_id_delivery_key", "outbox", ["submission_id", "delivery_key"],
        unique=True,
    )
    _draft_index("ix_outbox_delivery_key", ["delivery_key"], unique=True)
    _draft_index("ix_outbox_draft_id", ["draft_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_outbox_draft_id", table_name="outbox")
    op.drop_index("ix_outbox_delivery_key", table_name="outbox")
    op.drop_index("ix_outbox_submission_id_delivery_key", table_name="outbox")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_outbox_delivery_key", ["delivery_key"])
        batch_op.create_index("ix_outbox_submission_id", ["submission_id"], unique=False)
    _draft_index("ix_outbox_draft_id", ["draft_id"], unique=False)
