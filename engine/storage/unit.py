"""What one transaction's repositories run on: a link for prepared statements, maybe a session.

Two kinds of write transaction exist (``Database.transaction``), and they differ only here:

* the ORM transaction: a SQLAlchemy ``Connection`` in a transaction, and an ORM ``Session``
  joined to it — made on first use, so a transaction that only runs prepared statements
  (``engine.storage.prepared``) pays for no session;
* the driver transaction (``orm=False``): the pooled DBAPI connection itself, with the
  transaction begun and ended by ``Database`` — no ``Connection``, no events, no session.
  About 45 µs less per transaction than the ORM one, for paths whose every statement is
  prepared (the submission store, ``engine.services.submissions``).

On a driver transaction, a repository method that needs the ORM raises
:class:`SessionUnavailable` at its first statement — a programming error, found by the first
test that takes the path, never a statement silently run outside the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import Dialect
from sqlalchemy.orm import Session

__all__ = ["DriverLink", "Link", "Repository", "SessionUnavailable", "Unit"]


class SessionUnavailable(RuntimeError):
    """An ORM statement was attempted in a transaction opened without the ORM."""


class Link(Protocol):
    """Where a prepared statement runs: the dialect it was compiled for and the DBAPI
    connection (inside the transaction). A SQLAlchemy ``Connection`` is one; so is
    :class:`DriverLink`."""

    @property
    def dialect(self) -> Dialect: ...

    @property
    def connection(self) -> Any: ...


class DriverLink:
    """A pooled DBAPI connection and its dialect, without SQLAlchemy's ``Connection``."""

    __slots__ = ("connection", "dialect")

    def __init__(self, dialect: Dialect, connection: Any) -> None:
        self.dialect = dialect
        self.connection = connection


class Unit:
    """One transaction's link and, when it offers the ORM, its session (made on demand)."""

    __slots__ = ("_made", "_make_session", "link", "memo")

    def __init__(self, link: Link, make_session: Callable[[], Session] | None) -> None:
        self.link = link
        self._make_session = make_session
        self._made: Session | None = None
        self.memo: dict[object, object] = {}
        """Reads this transaction may repeat (the active staff, published version numbers),
        kept by the repository that reads them until it writes what they depend on. The
        submissions of one group commit share the transaction, and with it these reads."""

    @property
    def session(self) -> Session:
        """The ORM session joined to this transaction; :class:`SessionUnavailable` in a
        driver transaction."""
        made = self._made
        if made is None:
            if self._make_session is None:
                raise SessionUnavailable(
                    "this statement needs the ORM session, and the transaction was opened "
                    "without it (Database.transaction(orm=False) runs prepared statements "
                    "only): open it with Database.transaction()"
                )
            made = self._made = self._make_session()
        return made

    @property
    def made_session(self) -> Session | None:
        """The session if one was made (to flush and close it), else None."""
        return self._made


class Repository:
    """Base of the repositories a :class:`~engine.storage.Store` hands out."""

    __slots__ = ("_link", "_now", "_unit")

    def __init__(self, unit: Unit, now: datetime) -> None:
        self._unit = unit
        self._link: Link = unit.link
        """Where prepared statements run (the same for the whole transaction)."""
        self._now = now

    @property
    def _session(self) -> Session:
        """The transaction's ORM session, made on first use (``SessionUnavailable`` in a
        driver transaction)."""
        return self._unit.session

