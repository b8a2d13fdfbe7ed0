"""Fewer index entries written per submission: two redundant indexes go, two become partial.

Every submission writes one entry into every index of ``submissions`` and of ``outbox`` (one
WAL page each on SQLite, per commit). Four of those entries bought nothing:

* ``ix_submissions_state`` and ``ix_submissions_assigned_to`` are prefixes of
  ``(state, created_at, id)`` and ``(assigned_to, created_at, id)`` (migration 0002), which
  serve the same lookups (filters, counts per state, the users foreign key) — dropped.
* ``(assigned_to, created_at, id)`` held an entry for every unassigned submission, i.e. every
  new one, while every query using it asks for one assignee (``assigned_to = ?``, which the
  partial index serves on SQLite and PostgreSQL alike) — now only ``WHERE assigned_to IS NOT
  NULL``.
* ``ix_outbox_draft_id`` held an entry for every submission's outbox row (no draft); only a
  draft's resume-link rows are looked up by it (``draft_id = ?``, deleting the draft) — now
  only ``WHERE draft_id IS NOT NULL``.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 08:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ASSIGNED = "assigned_to IS NOT NULL"
WITH_DRAFT = "draft_id IS NOT NULL"


def upgrade() -> None:
    op.drop_index("ix_submissions_state", table_name="submissions")
    op.drop_index("ix_submissions_assigned_to", table_name="submissions")
    op.drop_index("ix_submissions_assigned_to_created_at_id", table_name="submissions")
    op.create_index(
        "ix_submissions_assigned_to_created_at_id", "submissions",
        ["assigned_to", "created_at", "id"], unique=False,
        sqlite_where=sa.text(ASSIGNED), postgresql_where=sa.text(ASSIGNED),
    )
    op.drop_index("ix_outbox_draft_id", table_name="outbox")
    op.create_index(
        "ix_outbox_draft_id", "outbox", ["draft_id"], unique=False,
        sqlite_where=sa.text(WITH_DRAFT), postgresql_where=sa.text(WITH_DRAFT),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_draft_id", table_name="outbox")
    op.create_index("ix_outbox_draft_id", "outbox", ["draft_id"], unique=False)
    op.drop_index("ix_submissions_assigned_to_created_at_id", table_name="submissions")
    op.create_index(
        "ix_submissions_assigned_to_created_at_id", "submissions",
        ["assigned_to", "created_at", "id"], unique=False,
    )
    op.create_index("ix_submissions_assigned_to", "submissions", ["assigned_to"], unique=False)
    op.create_index("ix_submissions_state", "submissions", ["state"], unique=False)
