"""Saved inbox views: named filters, each belonging to one user."""

from __future__ import annotations

from sqlalchemy import delete, select

from engine.records import SavedViewRecord
from engine.storage.repository import Repository
from engine.storage.tables import SavedViewRow

__all__ = ["SavedViewRepository"]


class SavedViewRepository(Repository):
    def for_user(self, user_id: int) -> list[SavedViewRecord]:
        """The user's views by name."""
        query = select(SavedViewRow).where(SavedViewRow.user_id == user_id)
        rows = self._session.scalars(query.order_by(SavedViewRow.name, SavedViewRow.id))
        return [SavedViewRecord(row.id, row.user_id, row.name, row.query) for row in rows]

    def save(self, user_id: int, name: str, query: str) -> None:
        """Store the view; a view of the same name of this user gets the new query."""
        found = self._session.scalars(
            select(SavedViewRow).where(SavedViewRow.user_id == user_id,
                                       SavedViewRow.name == name)
        ).first()
        if found is not None:
            found.query = query
            return
        self._session.add(SavedViewRow(user_id=user_id, name=name, query=query,
                                       created_at=self._now))

    def delete(self, user_id: int, view_id: int) -> bool:
        """Remove one of the user's views; False when it has no such view."""
        result = self._session.execute(
            delete(SavedViewRow).where(SavedViewRow.id == view_id,
                                       SavedViewRow.user_id == user_id)
        )
        return bool(getattr(result, "rowcount", 0))
