"""``INSERT … ON CONFLICT`` for the backend at hand.

Both backends understand it, but SQLAlchemy builds it with each dialect's own ``insert``;
this picks the right one so the repositories stay portable.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from engine.storage.tables import Base

__all__ = ["upsert"]


def upsert(session: Session, model: type[Base]) -> Any:
    """The dialect's ``insert(model)``, which offers ``on_conflict_do_nothing/_update``."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)
