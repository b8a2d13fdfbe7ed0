"""The base of every repository: the transaction's session and its fixed ``now``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

__all__ = ["Repository"]


class Repository:
    """Queries and writes of one concept, run in the session of one transaction."""

    def __init__(self, session: Session, now: datetime) -> None:
        self._session = session
        self._now = now
