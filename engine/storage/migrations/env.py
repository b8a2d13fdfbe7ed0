"""Alembic environment: runs only on a connection handed in by ``Database.upgrade()``.

``Database.upgrade`` opens the transaction and holds the cross-process migration lock, so
this file neither creates an engine nor reads an ini file.
"""

from __future__ import annotations

from alembic import context

from engine.storage.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through engine.storage.Database.upgrade()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
