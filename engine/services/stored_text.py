"""Finding and repairing stored text that ``engine.text`` now refuses (``formflow data check``).

Rows written before lone surrogates, NUL and other C0 controls (except tab, LF and CR) were
refused at the edge may still hold them: submissions' and drafts' answers, event comments,
outbox rows. Readers show such text with U+FFFD already (``engine.text.readable``); the repair
writes that same replacement back, so exports and other tools see valid text too.

A finding names the row (kind, id, the submission's reference where there is one) and where
in it the text is (JSON pointers into the answers, or the column) — never the text itself,
which may be personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.storage import Database
from engine.text import forbidden_paths, readable

__all__ = ["UnreadableText", "find_unreadable_text", "repair_unreadable_text"]

RowKind = Literal["submission", "draft", "event", "outbox"]


@dataclass(frozen=True, slots=True)
class UnreadableText:
    """One row holding text no text may hold, and where in it."""

    kind: RowKind
    id: str
    reference: str | None
    """The submission's reference (submissions and events), else ``None``."""
    paths: tuple[str, ...]
    """``answers/…`` JSON pointers, ``comment``, or outbox column names."""

    def format(self) -> str:
        where = f"{self.kind} {self.id}"
        if self.reference:
            where += f" ({self.reference})"
        return f"{where}: {', '.join(self.paths)}"


def _in_answers(answers: object) -> tuple[str, ...]:
    return tuple(f"answers{pointer}" for pointer in forbidden_paths(answers))


def _in_columns(values: dict[str, str | None]) -> tuple[str, ...]:
    return tuple(name for name, value in values.items() if value and forbidden_paths(value))


def find_unreadable_text(db: Database) -> list[UnreadableText]:
    """Every row with such text, by kind and then id; a read, changes nothing."""
    found: list[UnreadableText] = []
    with db.read() as store:
        for submission_id, reference, answers in store.stored_text.submission_answers():
            if paths := _in_answers(answers):
                found.append(UnreadableText("submission", submission_id, reference, paths))
        for draft_id, answers in store.stored_text.draft_answers():
            if paths := _in_answers(answers):
                found.append(UnreadableText("draft", draft_id, None, paths))
        for event_id, reference, comment in store.stored_text.event_comments():
            if forbidden_paths(comment):
                found.append(UnreadableText("event", str(event_id), reference, ("comment",)))
        for outbox_id, values in store.stored_text.outbox_texts():
            if paths := _in_columns(values):
                found.append(UnreadableText("outbox", str(outbox_id), None, paths))
    return found


def repair_unreadable_text(db: Database, found: list[UnreadableText]) -> list[UnreadableText]:
    """Replace each refused character of the rows ``found`` with U+FFFD, one transaction per
    row (a row read again inside it: what changed since is repaired too); the rows changed."""
    repaired: list[UnreadableText] = []
    for item in found:
        with db.transaction() as store:
            texts = store.stored_text
            if item.kind == "submission":
                answers = texts.submission_answers_of(item.id)
                paths = _in_answers(answers)
                if paths:
                    texts.set_submission_answers(item.id, readable(answers))
            elif item.kind == "draft":
                answers = texts.draft_answers_of(item.id)
                paths = _in_answers(answers)
                if paths:
                    texts.set_draft_answers(item.id, readable(answers))
            elif item.kind == "event":
                comment = texts.event_comment_of(int(item.id))
                paths = ("comment",) if comment and forbidden_paths(comment) else ()
                if paths:
                    texts.set_event_comment(int(item.id), readable(comment))
            else:
                values = texts.outbox_texts_of(int(item.id)) or {}
                paths = _in_columns(values)
                if paths:
                    texts.set_outbox_texts(
                        int(item.id), {name: readable(values[name]) for name in paths}
                    )
        if paths:
            repaired.append(UnreadableText(item.kind, item.id, item.reference, paths))
    return repaired
