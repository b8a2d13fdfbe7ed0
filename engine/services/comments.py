"""The one rule for comments people write on a submission (transition comments and plain ones).

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


def checked_comment(comment: str | None) -> str | None:
    """``comment`` ready to store (newlines normalised), ``None`` when absent; raises
    ``CommentInvalid`` for one that is too long or holds a forbidden character."""
    if comment is None:
        return None
    text = normalize_newlines(comment)
    if len(text) > MAX_COMMENT_LENGTH:
        raise CommentInvalid(
            "too_long",
            f"a comment may have at most {MAX_COMMENT_LENGTH} characters, this one has "
            f"{len(text)}",
        )
    position = forbidden_character(text)
    if position is not None:
        raise CommentInvalid(
            "character",
            f"the comment holds a character that cannot be stored (position {position + 1}): "
            "a control character or an invalid code point",
        )
    return text
