"""The engine's errors: one root, flat, so callers can catch as broadly as they need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.problems import Problem

__all__ = [
    "CommentRequired",
    "DefinitionError",
    "FormflowError",
    "GuardFailed",
    "RoleNotAllowed",
    "StaleState",
    "TransitionError",
    "TransitionNotAllowed",
    "UnknownTransition",
]


class FormflowError(Exception):
    """Root of every error the engine raises on purpose."""


class DefinitionError(FormflowError):
    """A form or workflow definition was refused; ``problems`` lists every error at once."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(p.format() for p in self.problems))


class TransitionError(FormflowError):
    """A transition could not be fired; nothing changed."""

    code = "transition_error"


class UnknownTransition(TransitionError):
    code = "unknown_transition"


class RoleNotAllowed(TransitionError):
    code = "forbidden"


class TransitionNotAllowed(TransitionError):
    """The submission is not in a state the transition starts from."""

    code = "conflict"


class GuardFailed(TransitionError):
    """The transition's ``when`` condition does not hold for the submission's answers."""

    code = "conflict"


class StaleState(TransitionError):
    """The caller acted on a state that is no longer current (someone else was faster)."""

    code = "conflict"


class CommentRequired(TransitionError):
    code = "comment_required"
