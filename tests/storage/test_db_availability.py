"""A form's window and capacity (issue 17), on SQLite and PostgreSQL: refused outside
``opens_at``/``closes_at``, full at ``capacity`` (submissions not final and not waitlisted),
beyond it onto the workflow's ``waitlist_state`` with ``waitlist: true`` — and never
overbooked when applicants race for the last places."""

from __future__ import annotations

import copy
import threading
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.exceptions import DefinitionError, FormUnavailable
from engine.services import (
    Database,
    fire_transition,
    import_definition,
    list_submissions,
    publish_form,
    publish_workflow,
    submit,
)
from engine.services.availability import availability
from support.storage import VALID_ANSWERS, WORKFLOW, form

BERLIN = ZoneInfo("Europe/Berlin")


def _publish(db: Database, waitlist_state: str | None = None, **limits: Any) -> None:
    workflow = copy.deepcopy(WORKFLOW)
    if waitlist_state:
        workflow["states"].append({"id": waitlist_state,
                                   "label": {"de": "Warteliste", "en": "Waiting list"}})
        workflow["waitlist_state"] = waitlist_state
        workflow["transitions"].append({"id": "move_up", "from": [waitlist_state],
                                        "to": "submitted", "roles": ["coordinator"]})
    import_definition(db, workflow, "workflow")
    publish_workflow(db, "review")
    import_definition(db, form(**limits), "form")
    publish_form(db, "membership")


def _submit(db: Database) -> str:
    return submit(db, "membership", VALID_ANSWERS, "de", zone=BERLIN).state


def test_the_window_in_local_time(db: Database, clock: Any) -> None:
    # the test clock stands at 2026-03-14 09:30 UTC = 10:30 in Berlin
    _publish(db, opens_at="2026-03-14T11:00", closes_at="2026-03-14T12:00")
    with pytest.raises(FormUnavailable) as early:
        _submit(db)
    assert early.value.reason == "not_yet_open"
    assert early.value.opens_at is not None
    assert early.value.opens_at.isoformat() == "2026-03-14T11:00:00+01:00"
    assert availability(db, "membership", BERLIN).status == "not_yet_open"
    clock.advance(minutes=30)  # 11:00 Berlin: open
    assert _submit(db) == "submitted"
    clock.advance(minutes=60)  # 12:00 Berlin: closed
    with pytest.raises(FormUnavailable) as late:
        _submit(db)
    assert late.value.reason == "closed"
    assert list_submissions(db, form_id="membership")[0].state == "submitted"


def test_capacity_counts_open_submissions_only(db: Database) -> None:
    _publish(db, capacity=2)
    first = submit(db, "membership", VALID_ANSWERS, "de")
    _submit(db)
    found = availability(db, "membership")
    assert (found.status, found.taken, found.places_left) == ("full", 2, 0)
    with pytest.raises(FormUnavailable) as full:
        _submit(db)
    assert full.value.reason == "full"
    fire_transition(db, first.id, "reject", actor="c@example.org", roles=("coordinator",),
                    comment="Leider nicht.")
    assert _submit(db) == "submitted"  # a final state gives its place back
    assert len(list_submissions(db, form_id="membership")) == 3


def test_beyond_capacity_onto_the_waiting_list(db: Database) -> None:
    _publish(db, waitlist_state="waiting", capacity=1, waitlist=True)
    assert _submit(db) == "submitted"
    assert availability(db, "membership").status == "waitlist"
    assert [_submit(db), _submit(db)] == ["waiting", "waiting"]  # waiting holds no place
    states = sorted(s.state for s in list_submissions(db, form_id="membership"))
    assert states == ["submitted", "waiting", "waiting"]


@pytest.mark.parametrize("waitlist", [False, True])
def test_racing_applicants_never_overbook(db: Database, waitlist: bool) -> None:
    if waitlist:
        _publish(db, waitlist_state="waiting", capacity=3, waitlist=True)
    else:
        _publish(db, capacity=3)
    outcomes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def apply() -> None:
        try:
            barrier.wait()
            outcomes.append(_submit(db))
        except FormUnavailable as exc:
            outcomes.append(exc.reason)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=apply) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    expected_rest = "waiting" if waitlist else "full"
    assert sorted(outcomes) == sorted(["submitted"] * 3 + [expected_rest] * 5)
    stored = [s.state for s in list_submissions(db, form_id="membership")]
    assert stored.count("submitted") == 3
    assert len(stored) == (8 if waitlist else 3)


def test_availability_settings_are_checked(db: Database) -> None:
    from engine.definitions import check_form

    def pointers(**limits: Any) -> set[str]:
        return {p.pointer for p in check_form(form(**limits)) if p.severity == "error"}

    assert pointers(opens_at="2026-03-14T11:00", closes_at="2026-03-15T11:00",
                    capacity=5) == set()
    assert pointers(opens_at="14.03.2026") == {"/opens_at"}
    assert pointers(opens_at="2026-03-14T11:00+01:00") == {"/opens_at"}
    assert pointers(opens_at="2026-03-15T11:00", closes_at="2026-03-14T11:00") == {"/closes_at"}
    assert pointers(capacity=0) == {"/capacity"}
    assert pointers(waitlist="yes") == {"/waitlist"}
    # a waiting list needs the workflow's waitlist_state
    import_definition(db, WORKFLOW, "workflow")
    publish_workflow(db, "review")
    import_definition(db, form(capacity=2, waitlist=True), "form")
    with pytest.raises(DefinitionError, match="waitlist_state"):
        publish_form(db, "membership")


def test_the_waitlist_state_must_be_an_open_state() -> None:
    from engine.workflows import check_workflow

    broken = copy.deepcopy(WORKFLOW)
    broken["waitlist_state"] = "nowhere"
    assert any(p.pointer == "/waitlist_state" for p in check_workflow(broken))
    broken["waitlist_state"] = "accepted"
    assert any(p.pointer == "/waitlist_state" and "final" in p.message
               for p in check_workflow(broken))


def test_a_form_without_limits_is_simply_open(db: Database, clock: Any) -> None:
    _publish(db)
    clock.advance(days=3650)
    assert availability(db, "membership").status == "open"
    assert _submit(db) == "submitted"
