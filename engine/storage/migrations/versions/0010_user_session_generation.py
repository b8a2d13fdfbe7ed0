"""A session generation per user: signing out, a new password, fewer roles or deactivation
end every session of the user.

A staff session (and a remember-me cookie) carries the user's id and this number; the web app
honours it only while the number is still the user's. Raising it in the database is what
ends the sessions — a copied cookie is worthless afterwards, even though it is still signed.
Existing users start at 0, so sessions from before the upgrade (which carry no generation)
end at their next request.

Revision ID: 0010
Revises: 0009_outbox_delivery_uuid
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009_outbox_delivery_uuid"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
