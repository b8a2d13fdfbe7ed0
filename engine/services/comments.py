"""The one rule for texts people write on a submission: a transition's comment (to the
applicant) and note (internal), and plain comments (internal notes).

A comment is stored as typed, with ``\\r\\n`` read as ``\\n``; one longer than
:data:`MAX_COMMENT_LENGTH` characters or holding a character no text in formflow may hold (a
lone surrogate, NUL or another C0 control other than tab and line feed) is refused with
``CommentInvalid`` — never cut short: the API answers 422, the page shows it at the comment.
"""

from __future__ import annotations

from engine.exceptions import CommentInvalid
from engine.text import forbidden_character, normalize_newlines

__all__ = ["MAX_COMMENT_LENGTH", "checked_comment"]

MAX_COMMENT_LENGTH = 10_000
"""Characters a comment may have: pages of text, far below what would bloat a status page."""


def checked_comment(comment: str | None, *, field: str = "comment") -> str | None:
    """``comment`` ready to store (newlines normalised), ``None`` when absent; raises
    ``CommentInvalid`` for one that is too long or holds a forbidden character.

    The same rule holds for a note (``field="note"``, named so in the refusal)."""
    if comment is None:
        return None
    text = normalize_newlines(comment)
    what = "a note" if field == "note" else "a comment"
    if len(text) > MAX_COMMENT_LENGTH:
        raise CommentInvalid(
            "too_long",
            f"{what} may have at most {MAX_COMMENT_LENGTH} characters, this one has "
            f"{len(text)}",
            field,
        )
    position = forbidden_character(text)
    if position is not None:
        raise CommentInvalid(
            "character",
            f"the {what[2:]} holds a character that cannot be stored (position "
            f"{position + 1}): a control character or an invalid code point",
            field,
        )
    return text
