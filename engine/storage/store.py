"""What a transaction hands out: one repository per concept, all over the same session.

Services receive a :class:`Store` from ``Database.transaction()`` / ``Database.read()`` and
never see the session itself, so all SQL stays in this package.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from engine.storage.accounts import AccountRepository
from engine.storage.audit import AuditRepository
from engine.storage.credentials import CredentialRepository
from engine.storage.definitions import DefinitionRepository
from engine.storage.drafts import DraftRepository
from engine.storage.editing import EditingRepository
from engine.storage.files import FileRepository
from engine.storage.inbox import InboxRepository
from engine.storage.outbox import OutboxRepository
from engine.storage.personal_data import PersonalDataRepository
from engine.storage.statistics import StatisticsRepository
from engine.storage.stored_text import StoredTextRepository
from engine.storage.submissions import EventRepository, SubmissionRepository
from engine.storage.views import SavedViewRepository

__all__ = ["Store"]


class Store:
    """Everything one transaction may read or write; ``now`` is fixed for the transaction."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.now = now
        self.definitions = DefinitionRepository(session, now)
        self.submissions = SubmissionRepository(session, now)
        self.events = EventRepository(session, now)
        self.drafts = DraftRepository(session, now)
        self.outbox = OutboxRepository(session, now)
        self.accounts = AccountRepository(session, now)
        self.credentials = CredentialRepository(session, now)
        self.inbox = InboxRepository(session, now)
        self.editing = EditingRepository(session, now)
        self.statistics = StatisticsRepository(session, now)
        self.stored_text = StoredTextRepository(session, now)
        self.views = SavedViewRepository(session, now)
        self.personal_data = PersonalDataRepository(session, now)
        self.audit = AuditRepository(session, now)
        self.files = FileRepository(session, now)
