"""Reads a transaction may repeat are read once, until it writes what they depend on.

The submissions of one group commit share a transaction, so the active staff (the
recipients of ``role:`` notifications) and the published version numbers (the check that a
cached form is still the published one) are read once per transaction. A transaction that
changes a user or publishes a definition must see that change in its next read.
"""

from __future__ import annotations

from engine.services import import_definition
from engine.storage import Database
from support.storage import form


def test_the_active_staff_is_read_again_after_a_user_changes(db: Database) -> None:
    with db.transaction() as store:
        assert store.accounts.active_staff() == []
        user = store.accounts.add_user(
            email="coord@example.org", roles=["coordinator"], password_hash=None
        )
        assert store.accounts.active_staff() == [("coord@example.org", ("coordinator",))]
        store.accounts.update_user(user.id, active=False)
        assert store.accounts.active_staff() == []


def test_published_numbers_are_read_again_after_a_publish(published_db: Database) -> None:
    import_definition(published_db, form(title={"de": "Neu", "en": "New"}), "form")
    wanted = [("form", "membership"), ("workflow", "review")]
    with published_db.transaction() as store:
        assert store.definitions.published_version_numbers(wanted) == {
            ("form", "membership"): 1, ("workflow", "review"): 1
        }
        store.definitions.publish("form", "membership", 2)
        assert store.definitions.published_version_numbers(wanted) == {
            ("form", "membership"): 2, ("workflow", "review"): 1
        }
