"""Exporting a filtered list of submissions as CSV or JSON, streamed row by row.

Nothing here holds the whole export: :func:`export_rows` walks the matching submissions in
keyset pages, each read in its own short transaction, and the writers turn each row into
text as it comes, so memory stays flat whether the export has 10 rows or 10 million — and no
read transaction stays open for the whole download.

Columns: ``reference, form, form_version, state, created_at``, then one column per answer
field id — the union over every form version the filter matches, in definition order (first
the versions seen first). A field a version does not have is an empty cell.

CSV is what people open in spreadsheets, so it is UTF-8 with a byte-order mark (Excel then
reads umlauts right), ``,`` or ``;`` as delimiter (German Excel expects ``;``), and every cell
that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return) gets a leading ``'`` so that opening an export never runs an applicant's
"formula" (CSV injection).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.exceptions import InvalidInput
from engine.records import ExportRow, InboxFilter, Position
from engine.services.loading import form_of

if TYPE_CHECKING:
    from engine.storage import Database


__all__ = [
    "BASE_COLUMNS",
    "DEFAULT_BATCH_SIZE",
    "ExportPlan",
    "csv_chunks",
    "export_plan",
    "export_rows",
    "json_chunks",
    "neutralise_cell",
]

BASE_COLUMNS = ("reference", "form", "form_version", "state", "created_at")
DEFAULT_BATCH_SIZE = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_FIRST = frozenset(FORMULA_STARTS)
CSV_DELIMITERS = {",": ",", ";": ";", "comma": ",", "semicolon": ";"}
BOM = "\ufeff"


@dataclass(frozen=True, slots=True)
class ExportPlan:
    """What an export will contain: the filter and the answer columns, decided up front."""

    where: InboxFilter
    answer_columns: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return BASE_COLUMNS + self.answer_columns


def export_plan(db: Database, where: InboxFilter) -> ExportPlan:
    """The columns for exporting what ``where`` matches (the union of the form versions')."""
    with db.read() as store:
        version_rows = store.inbox.form_versions(where)
        records = [store.definitions.by_row_id(row_id) for row_id in version_rows]
    columns: dict[str, None] = {}
    for record in records:
        if record is None:
            continue
        for form_field in form_of(db, record).fields():
            if form_field.is_input:
                columns.setdefault(form_field.id, None)
    return ExportPlan(where, tuple(columns))


def export_rows(
    db: Database, where: InboxFilter, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> Iterator[ExportRow]:
    """Every matching submission, newest first, read ``batch_size`` at a time."""
    if batch_size < 1:
        raise InvalidInput("batch_size", "a batch holds at least one row")
    position: Position | None = None
    while True:
        with db.read() as store:
            batch = store.inbox.export_page(where, before=position, limit=batch_size)
        yield from batch
        if len(batch) < batch_size:
            return
        last = batch[-1]
        position = Position(last.created_at, last.id)


def neutralise_cell(value: str) -> str:
    """``value`` made safe for spreadsheets: a leading ``'`` where it would start a formula."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def csv_chunks(
    db: Database,
    plan: ExportPlan,
    *,
    delimiter: str = ",",
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[str]:
    """The CSV export as text chunks (BOM and header first, then one chunk per batch)."""
    separator = CSV_DELIMITERS.get(delimiter)
    if separator is None:
        raise InvalidInput("delimiter", "the CSV delimiter is ',' or ';'")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow([neutralise_cell(column) for column in plan.columns])
    yield BOM + _drain(buffer)
    columns = plan.answer_columns
    pending = 0
    for row in export_rows(db, plan.where, batch_size=batch_size):
        answers = row.answers
        cells = [
            _text_cell(row.reference), row.form_id, str(row.form_version), row.state,
            row.created_at.isoformat(),
        ]
        for column in columns:
            value = answers.get(column)
            # the common cases inline (this loop runs once per cell of the export)
            if value is None:
                cells.append("")
            elif value.__class__ is str:
                cells.append("'" + value if value[:1] in _FORMULA_FIRST else value)
            else:
                cells.append(_safe_cell(value))
        writer.writerow(cells)
        pending += 1
        if pending >= batch_size:
            yield _drain(buffer)
            pending = 0
    if pending:
        yield _drain(buffer)


def json_chunks(
    db: Database, plan: ExportPlan, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> Iterator[str]:
    """The JSON export, a list of objects (answers typed as stored), as text chunks."""
    yield '{"columns":' + json.dumps(list(plan.columns), ensure_ascii=False) + ',"submissions":['
    parts: list[str] = []
    first = True
    for row in export_rows(db, plan.where, batch_size=batch_size):
        item = {
            "id": row.id,
            "reference": row.reference,
            "form": row.form_id,
            "form_version": row.form_version,
            "state": row.state,
            "created_at": row.created_at.isoformat(),
            "answers": dict(row.answers),
        }
        parts.append(("" if first else ",") + json.dumps(item, ensure_ascii=False))
        first = False
        if len(parts) >= batch_size:
            yield "".join(parts)
            parts.clear()
    parts.append("]}")
    yield "".join(parts)


def _text_cell(value: str) -> str:
    return "'" + value if value[:1] in _FORMULA_FIRST else value


def _safe_cell(value: Any) -> str:
    """Typed numbers stay as they are (``-5`` is a number, not a formula); text is neutralised."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return neutralise_cell(_cell(value))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "; ".join(_cell(item) for item in value)
    return str(value)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate(0)
    return text

