"""The engine's errors: one root, flat, so callers can catch as broadly as they need."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from engine.problems import Problem

__all__ = [
    "AlreadyExists",
    "CommentInvalid",
    "CommentNotAllowed",
    "CommentRequired",
    "DefinitionError",
    "DraftExpired",
    "FormUnavailable",
    "FormflowError",
    "GuardFailed",
    "InvalidInput",
    "NotFound",
    "RoleNotAllowed",
    "StaleState",
    "StorageUnavailable",
    "SubmissionInvalid",
    "TemplateFailed",
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


class TemplateFailed(FormflowError):
    """A notification template could not be rendered; nothing was sent.

    Names the template, the part (subject, body, html) and language, and the problem in words
    an administrator can act on (``'answers' has no attribute 'nmae'``), never a traceback.
    """

    code = "template_failed"

    def __init__(self, template: str, part: str | None, language: str, problem: str) -> None:
        self.template = template
        self.part = part
        self.language = language
        self.problem = problem
        where = f" ({part}, {language})" if part else ""
        super().__init__(f"template {template!r}{where}: {problem}")


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


class NotFound(FormflowError):
    """A form, submission, draft, user or token the caller named does not exist."""

    code = "not_found"


class AlreadyExists(FormflowError):
    """Creating something whose unique key (e.g. a user's email) is already taken."""

    code = "already_exists"


class DraftExpired(FormflowError):
    """The draft behind a resume token has passed its expiry time and is gone for good."""

    code = "draft_expired"


class SubmissionInvalid(FormflowError):
    """The server-side evaluation refused the answers; ``errors``: field id → messages."""

    code = "invalid"

    def __init__(self, errors: Mapping[str, Sequence[str]]) -> None:
        self.errors = {field: list(messages) for field, messages in errors.items()}
        super().__init__(f"{len(self.errors)} field(s) invalid: {', '.join(self.errors)}")


class FormUnavailable(FormflowError):
    """The form takes no submission now: ``reason`` is ``not_yet_open``, ``closed`` or
    ``full`` (engine/availability.py); ``opens_at``/``closes_at`` are aware moments or None."""

    code = "form_unavailable"

    def __init__(self, reason: str, *, opens_at: datetime | None = None,
                 closes_at: datetime | None = None) -> None:
        self.reason = reason
        self.opens_at = opens_at
        self.closes_at = closes_at
        super().__init__(f"the form takes no submissions now: {reason}")


class StorageUnavailable(FormflowError):
    """The database cannot be reached or is busy; nothing was stored, a later retry may work.

    The message is meant for people (operators, the 503 body) and never holds a stack trace.
    """

    code = "storage_unavailable"


class CommentNotAllowed(TransitionError):
    code = "comment_not_allowed"


class CommentInvalid(TransitionError):
    """A comment that cannot be stored: longer than the limit (``reason`` ``"too_long"``) or
    holding a character no text may hold (``"character"``: a lone surrogate, NUL, a control).

    Raised for transition comments, notes and plain comments alike; nothing is stored.
    ``field`` names the text refused: ``"comment"`` (to the applicant) or ``"note"``.
    """

    code = "comment_invalid"

    def __init__(self, reason: str, message: str, field: str = "comment") -> None:
        self.reason = reason
        self.field = field
        super().__init__(message)


class InvalidInput(FormflowError):
    """A value given to a service is unusable (malformed email, unknown role, short password).

    ``field`` names what was wrong, for forms and API error bodies.
    """

    code = "invalid_input"

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)
