"""Uploaded files: ``files`` (one per file, owned by a draft or a submission) and
``file_chunks`` (its bytes, about 1 MB per row).

The bytes live in the database so that a file is committed in the same transaction as the
draft or submission it belongs to, goes with it (the foreign keys cascade), is in every backup
and is seen by every web process on every machine.

Revision ID: 0016_file_uploads
Revises: 0013_event_notes
Create Date: 2026-12-07 04:15:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_file_uploads"
down_revision = "0015_staff_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "files",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("draft_id", sa.String(length=32), nullable=True),
        sa.Column("submission_id", sa.String(length=32), nullable=True),
        sa.Column("field_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("(draft_id IS NULL) <> (submission_id IS NULL)",
                           name=op.f("ck_files_one_owner")),
        sa.ForeignKeyConstraint(["draft_id"], ["drafts.id"],
                                name=op.f("fk_files_draft_id_drafts"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["submission_id"], ["submissions.id"],
                                name=op.f("fk_files_submission_id_submissions"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_files")),
    )
    op.create_index(op.f("ix_files_draft_id"), "files", ["draft_id"])
    op.create_index(op.f("ix_files_submission_id"), "files", ["submission_id"])
    op.create_table(
        "file_chunks",
        sa.Column("file_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(["file_id"], ["files.id"],
                                name=op.f("fk_file_chunks_file_id_files"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("file_id", "seq", name=op.f("pk_file_chunks")),
    )


def downgrade() -> None:
    op.drop_table("file_chunks")
    op.drop_index(op.f("ix_files_submission_id"), table_name="files")
    op.drop_index(op.f("ix_files_draft_id"), table_name="files")
    op.drop_table("files")
