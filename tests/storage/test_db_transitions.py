"""Firing transitions: one winner under concurrency, stale states refused, nothing half-done."""

from __future__ import annotations

import multiprocessing
import threading

import pytest

from engine.exceptions import (
    CommentRequired,
    GuardFailed,
    NotFound,
    RoleNotAllowed,
    StaleState,
    TransitionNotAllowed,
    UnknownTransition,
)
from engine.services import (
    Database,
    add_comment,
    fire_transition,
    get_submission,
    history,
    notifications_for,
    submit,
    transitions_for,
)
from support.storage import VALID_ANSWERS, fire_in_process


@pytest.fixture
def submission_id(published_db: Database) -> str:
    return submit(published_db, "membership", VALID_ANSWERS, "de").id


def _coordinator(db: Database, sid: str, transition: str, **kwargs: object) -> object:
    return fire_transition(db, sid, transition, actor="coord@example.org",
                           roles=["coordinator"], **kwargs)  # type: ignore[arg-type]


def test_firing_updates_state_writes_event_and_notifications(
    published_db: Database, submission_id: str
) -> None:
    db = published_db
    fired = fire_transition(db, submission_id, "review", actor="c@example.org",
                            roles=["coordinator"], comment="  looks fine ",
                            expected_state="submitted")
    assert (fired.submission.state, fired.submission.version) == ("reviewed", 2)
    assert (fired.event.transition, fired.event.from_state, fired.event.to_state) == (
        "review", "submitted", "reviewed")
    assert (fired.event.actor, fired.event.comment) == ("c@example.org", "looks fine")
    assert [n.channel for n in fired.notifications] == ["webhook"]  # "*" only

    accepted = fire_transition(db, submission_id, "accept", actor="c@example.org",
                               roles=["coordinator"])
    assert accepted.submission.state == "accepted"
    assert sorted((n.channel, n.template) for n in accepted.notifications) == [
        ("mail", "accepted"), ("webhook", None)]
    events = history(db, submission_id)
    assert [(e.kind, e.from_state, e.to_state) for e in events] == [
        ("created", None, "submitted"),
        ("transition", "submitted", "reviewed"),
        ("transition", "reviewed", "accepted"),
    ]
    assert get_submission(db, submission_id).version == 3


def test_refusals_change_nothing(published_db: Database, submission_id: str) -> None:
    db = published_db
    before_outbox = len(notifications_for(db, submission_id))
    with pytest.raises(UnknownTransition):
        _coordinator(db, submission_id, "teleport")
    with pytest.raises(TransitionNotAllowed):
        _coordinator(db, submission_id, "accept")
    with pytest.raises(CommentRequired):
        _coordinator(db, submission_id, "reject", comment="   ")
    with pytest.raises(RoleNotAllowed):
        fire_transition(db, submission_id, "review", actor="x", roles=["applicant"])
    with pytest.raises(StaleState):
        _coordinator(db, submission_id, "review", expected_state="reviewed")
    with pytest.raises(NotFound):
        _coordinator(db, "f" * 32, "review")
    submission = get_submission(db, submission_id)
    assert (submission.state, submission.version) == ("submitted", 1)
    assert len(history(db, submission_id)) == 1
    assert len(notifications_for(db, submission_id)) == before_outbox


def test_guards_read_the_pinned_answers(published_db: Database) -> None:
    db = published_db
    adult = submit(db, "membership", VALID_ANSWERS, "de").id
    child = submit(db, "membership", {**VALID_ANSWERS, "age": "12"}, "de").id
    assert "fast_track" in [t.id for t in transitions_for(db, get_submission(db, adult),
                                                          ["coordinator"])]
    assert "fast_track" not in [t.id for t in transitions_for(db, get_submission(db, child),
                                                              ["coordinator"])]
    with pytest.raises(GuardFailed):
        _coordinator(db, child, "fast_track")
    _coordinator(db, adult, "fast_track")
    assert get_submission(db, adult).state == "accepted"


def test_a_stale_expected_state_is_refused(published_db: Database, submission_id: str) -> None:
    db = published_db
    _coordinator(db, submission_id, "review", expected_state="submitted")
    with pytest.raises(StaleState):
        _coordinator(db, submission_id, "reject", comment="no", expected_state="submitted")
    assert get_submission(db, submission_id).state == "reviewed"


def test_racing_threads_have_exactly_one_winner(
    published_db: Database, submission_id: str
) -> None:
    db = published_db
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def act(actor: str) -> None:
        barrier.wait()
        try:
            fire_transition(db, submission_id, "review", actor=actor, roles=["coordinator"],
                            expected_state="submitted")
            outcomes.append("won")
        except StaleState:
            outcomes.append("stale")
        except BaseException as exc:  # noqa: BLE001 - any other outcome fails the test
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=act, args=(f"c{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["stale"] * 7 + ["won"]
    _assert_exactly_one_transition(db, submission_id)


def test_racing_processes_have_exactly_one_winner(
    published_db: Database, submission_id: str
) -> None:
    url = published_db.engine.url.render_as_string(hide_password=False)
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(4), context.Queue()
    processes = [
        context.Process(target=fire_in_process, args=(url, submission_id, f"p{i}", barrier,
                                                      results))
        for i in range(4)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
    assert sorted(outcomes) == ["stale"] * 3 + ["won"]
    _assert_exactly_one_transition(published_db, submission_id)


def _assert_exactly_one_transition(db: Database, submission_id: str) -> None:
    submission = get_submission(db, submission_id)
    assert (submission.state, submission.version) == ("reviewed", 2)
    transitions = [e for e in history(db, submission_id) if e.kind == "transition"]
    assert len(transitions) == 1
    winner_event = transitions[0].id
    webhooks = [n for n in notifications_for(db, submission_id) if n.event_id == winner_event]
    assert len(webhooks) == 1  # the loser's notifications rolled back with it
    assert {n.event_id for n in notifications_for(db, submission_id)} == {
        e.id for e in history(db, submission_id)}


def test_comments_are_recorded_without_changing_state(
    published_db: Database, submission_id: str
) -> None:
    db = published_db
    event = add_comment(db, submission_id, "c@example.org", "called the applicant")
    # a plain comment is an internal note: its text is the event's note, never its comment
    assert (event.kind, event.note, event.comment, event.transition) == (
        "comment", "called the applicant", None, None)
    assert history(db, submission_id)[-1].note == "called the applicant"
    assert get_submission(db, submission_id).version == 1
    assert [e.kind for e in history(db, submission_id)] == ["created", "comment"]
