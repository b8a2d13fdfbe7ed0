"""How database failures leave this package: :class:`StorageUnavailable` with a message for
people, whichever way the statement ran (ORM, Core, prepared, a driver transaction)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.exc import (
    ArgumentError,
    DataError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout

from engine.exceptions import StorageUnavailable

__all__ = ["BUSY_MESSAGE", "storage_errors", "unavailable"]

BUSY_MESSAGE = "the database is busy (locked by another process); try again shortly"


@contextmanager
def storage_errors() -> Iterator[None]:
    """Turn database failures into :class:`StorageUnavailable` with a message for people.

    Integrity and data errors are left alone: they mean a bug or a caller's mistake that the
    layer above handles specifically, not an unavailable database.
    """
    try:
        yield
    except SQLAlchemyError as exc:
        replacement = unavailable(exc)
        if replacement is None:
            raise
        raise replacement from exc


def unavailable(exc: BaseException) -> StorageUnavailable | None:
    """What :func:`storage_errors` turns ``exc`` into; None: it leaves unchanged."""
    if not isinstance(exc, SQLAlchemyError) or isinstance(exc, (IntegrityError, DataError)):
        return None
    if isinstance(exc, PoolTimeout):
        return StorageUnavailable("the database is overloaded (no free connection); try again")
    if isinstance(exc, DBAPIError):
        return StorageUnavailable(_describe(exc))
    if isinstance(exc, (ArgumentError, NoSuchModuleError)):
        return StorageUnavailable(f"database misconfigured: {exc}")
    return None


def _describe(exc: DBAPIError) -> str:
    original = exc.orig
    detail = str(original).strip().splitlines()[0] if original is not None else str(exc)
    lowered = detail.lower()
    sqlstate = getattr(original, "sqlstate", None)
    if "no such table" in lowered or sqlstate == "42P01":
        return "the database has no formflow schema (or an outdated one): run `formflow init`"
    if "database is locked" in lowered or "database is busy" in lowered:
        return BUSY_MESSAGE
    if "unable to open database file" in lowered:
        return "cannot open the SQLite database file (missing folder or no permission)"
    if "readonly database" in lowered or "read-only" in lowered:
        return "the database is read-only; nothing can be stored right now"
    return f"the database is unavailable: {detail}"
