"""Working drafts of the administrators' editor (``engine.storage.editing``).

One row per form or workflow being edited: the draft's JSON, the version it started from and
a revision counter for optimistic concurrency between administrators. Published versions are
untouched; dropping the table loses only unpublished edits.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "editor_drafts",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("definition_id", sa.String(length=64), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=254), nullable=True),
        sa.CheckConstraint("kind IN ('form', 'workflow')", name=op.f("ck_editor_drafts_kind")),
        sa.PrimaryKeyConstraint("kind", "definition_id", name=op.f("pk_editor_drafts")),
    )


def downgrade() -> None:
    op.drop_table("editor_drafts")
