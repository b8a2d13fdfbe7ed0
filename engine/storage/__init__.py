"""formflow's durable home: the only package that imports SQLAlchemy.

Create a :class:`Database` from a URL, call :meth:`Database.upgrade` once (Alembic), then use
``with db.transaction() as store:`` (or ``db.read()``) and the repositories on the
:class:`Store`. Everything handed out is a frozen record from :mod:`engine.records`.
Code outside ``engine`` reaches this package through ``engine.services`` only.
"""

from __future__ import annotations

from engine.storage.database import Database
from engine.storage.errors import storage_errors
from engine.storage.store import Store

__all__ = ["Database", "Store", "storage_errors"]
