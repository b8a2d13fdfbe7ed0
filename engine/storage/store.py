"""The unit of work a transaction hands out: one repository per concept, one unit behind.

Services receive a :class:`Store` from ``Database.transaction()`` / ``Database.read()`` and
never see the session (or the connection) itself, so all SQL stays in this package. The
repositories share the transaction's :class:`~engine.storage.unit.Unit`: its link for
prepared statements and, when the transaction offers the ORM, its session.
"""

from __future__ import annotations

from datetime import datetime

from engine.storage.accounts import AccountRepository
from engine.storage.definitions import DefinitionRepository
from engine.storage.drafts import DraftRepository
from engine.storage.outbox import OutboxRepository
from engine.storage.submissions import EventRepository, SubmissionRepository
from engine.storage.unit import Unit

__all__ = ["Store"]


class Store:
    """Everything one transaction may read or write; ``now`` is fixed for the transaction."""

    def __init__(self, unit: Unit, now: datetime) -> None:
        self.now = now
        self.definitions = DefinitionRepository(unit, now)
        self.submissions = SubmissionRepository(unit, now)
        self.events = EventRepository(unit, now)
        self.drafts = DraftRepository(unit, now)
        self.outbox = OutboxRepository(unit, now)
        self.accounts = AccountRepository(unit, now)
