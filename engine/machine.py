"""Firing workflow transitions on a state machine built once per workflow definition.

Each ``WorkflowDefinition`` is compiled into one ``transitions.Machine`` that all threads share.
The machine holds no submission (``model=None``): every ``fire`` makes a throwaway model object,
sets it to the submission's current state and triggers the transition's event on it, under the
compiled workflow's lock, so concurrent fires never see each other's model. The model is never
registered with ``add_model``: that would bind convenience methods onto it (and log a warning
for each name that is taken), which we don't use. Storage persists the outcome; nothing here
touches it.

Safety: ``transitions`` resolves *strings* in conditions and callbacks to model attributes or to
dotted import paths (``"os.system"``). The machine is therefore built only from our own
callables; the JSON contributes state and trigger names, which the schema restricts to
``^[a-z][a-z0-9_]{0,63}$`` and which are never used as callbacks.

Roles: a caller may fire a transition when one of its roles is listed in the transition's
``roles``; the role ``admin`` may fire every transition (administrators fix stuck submissions).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from transitions import Machine
from transitions.core import EventData, MachineError

from engine.availability import waitlist_problems
from engine.conditions import compile_condition, holds
from engine.exceptions import (
    CommentNotAllowed,
    CommentRequired,
    DefinitionError,
    GuardFailed,
    RoleNotAllowed,
    StaleState,
    TransitionError,
    TransitionNotAllowed,
    UnknownTransition,
)
from engine.model import Condition, FormDefinition, Notification, Transition, WorkflowDefinition
from engine.problems import Problem, errors_only, pointer_join

__all__ = [
    "ADMIN_ROLE",
    "CompiledWorkflow",
    "Guard",
    "TransitionOutcome",
    "available_transitions",
    "bind_guards",
    "check_guards_against_form",
    "compile_workflow",
    "fire",
    "notifications_on_entering",
]

ADMIN_ROLE = "admin"
"""May fire every transition, whatever its ``roles`` say."""

Guard = Callable[[Transition, Mapping[str, Any]], bool]
"""Decides whether a transition's ``when`` holds for a submission's answers (``bind_guards``)."""

_CACHE_SIZE = 256


@dataclass(frozen=True, slots=True)
class TransitionOutcome:
    """What firing changed: storage records it in the history and enqueues ``notifications``."""

    transition: str
    """The id of the transition fired."""
    from_state: str
    to_state: str
    actor: str | None
    comment: str | None
    """Stripped; ``None`` when empty."""
    notifications: tuple[Notification, ...]
    """Due on entering ``to_state`` (``on`` is that state or ``"*"``), in definition order."""


class _Firing:
    """The throwaway model of one ``fire``: the machine keeps the state on it while it runs.

    Attribute names start with ``_``, which no state or transition id can, so nothing the
    machine reads on the model can be confused with a definition's name.
    """

    def __init__(
        self, transition: Transition, answers: Mapping[str, Any], comment: str | None,
        guard: Guard | None,
    ) -> None:
        self._ff_state = ""
        self._ff_transition = transition
        self._ff_answers = answers
        self._ff_comment = comment
        self._ff_guard = guard
        self._ff_refusal: TransitionError | None = None


def _guard_holds(event: EventData) -> bool:
    firing = event.model
    assert isinstance(firing, _Firing)
    transition = firing._ff_transition
    if _passes_guard(transition, firing._ff_answers, firing._ff_guard):
        return True
    firing._ff_refusal = GuardFailed(
        f"the condition of transition {transition.id!r} does not hold for this submission"
    )
    return False


def _comment_fits(event: EventData) -> bool:
    firing = event.model
    assert isinstance(firing, _Firing)
    transition = firing._ff_transition
    if transition.comment == "required" and firing._ff_comment is None:
        firing._ff_refusal = CommentRequired(f"transition {transition.id!r} needs a comment")
        return False
    if transition.comment == "none" and firing._ff_comment is not None:
        firing._ff_refusal = CommentNotAllowed(
            f"transition {transition.id!r} does not take a comment"
        )
        return False
    return True


_CONDITIONS: list[Callable[[EventData], bool]] = [_guard_holds, _comment_fits]
"""In the order the checks are documented: guard first, then the comment policy."""


class CompiledWorkflow:
    """A workflow definition with its state machine, built once and shared by all threads."""

    __slots__ = ("_lock", "_machine", "_states", "_transitions", "definition")

    def __init__(self, definition: WorkflowDefinition) -> None:
        self.definition = definition
        self._states = frozenset(s.id for s in definition.states)
        self._transitions = {t.id: t for t in definition.transitions}
        self._lock = threading.Lock()
        self._machine = Machine(
            model=None,
            states=[s.id for s in definition.states],
            initial=definition.initial,
            auto_transitions=False,
            send_event=True,
            model_attribute="_ff_state",
            name=f"workflow {definition.id}",
        )
        for transition in definition.transitions:
            self._machine.add_transition(
                trigger=transition.id,
                source=list(transition.sources),
                dest=transition.to,
                conditions=list(_CONDITIONS),
            )

    @property
    def machine(self) -> Machine:
        """The shared ``transitions.Machine``, for inspection only: fire through ``fire``."""
        return self._machine

    def transition(self, transition_id: str) -> Transition | None:
        return self._transitions.get(transition_id)

    def run(
        self, state: str, transition: Transition, answers: Mapping[str, Any],
        comment: str | None, guard: Guard | None,
    ) -> str:
        """Trigger ``transition`` from ``state``; the new state, or the ``TransitionError``."""
        if state not in self._states:
            raise TransitionNotAllowed(f"{state!r} is not a state of workflow "
                                       f"{self.definition.id!r}")
        firing = _Firing(transition, answers, comment, guard)
        with self._lock:
            self._machine.set_state(state, model=firing)
            try:
                fired = self._machine.events[transition.id].trigger(firing)
            except MachineError:
                raise TransitionNotAllowed(
                    f"transition {transition.id!r} cannot start from state {state!r}"
                ) from None
        if not fired:
            raise firing._ff_refusal or GuardFailed(f"transition {transition.id!r} was refused")
        return firing._ff_state


_cache: OrderedDict[int, CompiledWorkflow] = OrderedDict()
_cache_lock = threading.Lock()


def compile_workflow(workflow: WorkflowDefinition | CompiledWorkflow) -> CompiledWorkflow:
    """The compiled form of a definition, built on first use and cached (LRU, by identity).

    Definitions hold dicts and so cannot be hashed; the cache keys on ``id()`` and keeps the
    definition alive inside the entry, so an id cannot be reused while its entry exists.
    Callers that keep definitions for long may hold the ``CompiledWorkflow`` themselves.
    """
    if isinstance(workflow, CompiledWorkflow):
        return workflow
    key = id(workflow)
    with _cache_lock:
        compiled = _cache.get(key)
        if compiled is not None and compiled.definition is workflow:
            _cache.move_to_end(key)
            return compiled
    compiled = CompiledWorkflow(workflow)
    with _cache_lock:
        _cache[key] = compiled
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return compiled


def fire(
    workflow: WorkflowDefinition | CompiledWorkflow,
    state: str,
    transition_id: str,
    *,
    roles: Iterable[str],
    answers: Mapping[str, Any],
    comment: str | None = None,
    expected_state: str | None = None,
    guard: Guard | None = None,
    actor: str | None = None,
) -> TransitionOutcome:
    """Fire ``transition_id`` on a submission in ``state``; nothing is changed on refusal.

    Checks, in this order: none of ``roles`` may fire any transition of the workflow and none
    is ``admin`` (``RoleNotAllowed``); unknown id (``UnknownTransition``); none of ``roles``
    may fire this one (``RoleNotAllowed``); ``expected_state`` given and not ``state``
    (``StaleState``); ``state`` is not among its sources (``TransitionNotAllowed``); its
    ``when`` does not hold per ``guard`` (``GuardFailed``); comment policy (``CommentRequired``,
    ``CommentNotAllowed``). A transition with ``when`` needs ``guard`` (see ``bind_guards``);
    firing it without one is a programming error (``TypeError``). The role comes first so that
    a refusal that names the state (a stale or unknown step) reaches only those who may act.
    """
    compiled = compile_workflow(workflow)
    role_set = _role_set(roles)
    if not any(_role_allows(t, role_set) for t in compiled.definition.transitions):
        raise RoleNotAllowed("your role may not fire any transition of this workflow")
    transition = compiled.transition(transition_id)
    if transition is None:
        raise UnknownTransition(f"workflow {compiled.definition.id!r} has no transition "
                                f"{transition_id!r}")
    if not _role_allows(transition, role_set):
        raise RoleNotAllowed(f"your role may not fire transition {transition.id!r}")
    if expected_state is not None and expected_state != state:
        raise StaleState(f"the submission is in state {state!r} now, not {expected_state!r}")
    cleaned = (comment or "").strip() or None
    to_state = compiled.run(state, transition, answers, cleaned, guard)
    return TransitionOutcome(
        transition=transition.id,
        from_state=state,
        to_state=to_state,
        actor=actor,
        comment=cleaned,
        notifications=notifications_on_entering(compiled.definition, to_state),
    )


def available_transitions(
    workflow: WorkflowDefinition | CompiledWorkflow,
    state: str,
    *,
    roles: Iterable[str],
    answers: Mapping[str, Any],
    guard: Guard | None = None,
) -> list[Transition]:
    """Exactly the transitions the caller may fire now (role, state, guard), in definition order.

    The comment policy is not considered: the caller is offered the transition and asked for a
    comment when it needs one.
    """
    definition = compile_workflow(workflow).definition
    role_set = _role_set(roles)
    return [
        t for t in definition.transitions
        if state in t.sources and _role_allows(t, role_set) and _passes_guard(t, answers, guard)
    ]


def notifications_on_entering(
    workflow: WorkflowDefinition | CompiledWorkflow, state: str
) -> tuple[Notification, ...]:
    """Notifications due when a submission enters ``state`` (also the initial one at submit)."""
    definition = workflow.definition if isinstance(workflow, CompiledWorkflow) else workflow
    return tuple(n for n in definition.notifications if n.on in (state, "*"))


def check_guards_against_form(
    workflow: WorkflowDefinition | CompiledWorkflow, form: FormDefinition
) -> list[Problem]:
    """Problems of the workflow's guards read against ``form``'s fields (pointers into the
    workflow file): unknown fields, ops that don't fit a field's type, unconvertible values;
    and a waiting list the form keeps but the workflow has no state for."""
    definition = workflow.definition if isinstance(workflow, CompiledWorkflow) else workflow
    return _compile_guards(workflow, form)[1] + waitlist_problems(definition, form)


def bind_guards(workflow: WorkflowDefinition | CompiledWorkflow, form: FormDefinition) -> Guard:
    """A guard for ``fire``/``available_transitions`` that evaluates ``when`` on ``form``'s
    answers; raises ``DefinitionError`` when a guard does not fit the form."""
    compiled, problems = _compile_guards(workflow, form)
    errors = errors_only(problems)
    if errors:
        raise DefinitionError(errors)

    def guard(transition: Transition, answers: Mapping[str, Any]) -> bool:
        condition = compiled.get(transition.id)
        if condition is None:  # not this workflow's guarded transition: refuse, don't guess
            return transition.when is None
        return holds(condition, answers)

    return guard


def _compile_guards(
    workflow: WorkflowDefinition | CompiledWorkflow, form: FormDefinition
) -> tuple[dict[str, Condition], list[Problem]]:
    definition = workflow.definition if isinstance(workflow, CompiledWorkflow) else workflow
    fields = form.field_map()
    conditions: dict[str, Condition] = {}
    problems: list[Problem] = []
    for index, transition in enumerate(definition.transitions):
        if transition.when is None:
            continue
        pointer = pointer_join("/transitions", index, "when")
        condition, found = compile_condition(transition.when, fields, pointer)
        problems += found
        if condition is not None:
            conditions[transition.id] = condition
    return conditions, problems


def _role_set(roles: Iterable[str]) -> frozenset[str]:
    return frozenset((roles,) if isinstance(roles, str) else roles)


def _role_allows(transition: Transition, roles: Iterable[str]) -> bool:
    role_set = roles if isinstance(roles, frozenset) else _role_set(roles)
    return ADMIN_ROLE in role_set or not role_set.isdisjoint(transition.roles)


def _passes_guard(transition: Transition, answers: Mapping[str, Any], guard: Guard | None) -> bool:
    if transition.when is None:
        return True
    if guard is None:
        raise TypeError(f"transition {transition.id!r} has a 'when' guard: pass "
                        "guard=bind_guards(workflow, form)")
    return guard(transition, answers)
