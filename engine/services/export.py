"""Exporting a filtered list of submissions as CSV or JSON, streamed row by row.

Nothing here holds the whole export: :func:`export_rows` walks the matching submissions in
keyset pages, each read in its own short transaction, and the writers turn each row into
text as it comes, so memory stays flat whether the export has 10 rows or 10 million — and no
read transaction stays open for the whole download.

Columns: ``reference, form, form_version, state, created_at``, then one column per answer
field id — the union over every form version the filter matches, in definition order (first
the versions seen first). A field a version does not have is an empty cell. CSV and the
spreadsheet end with a column ``consents``: each consent record (``"consent": true``
checkboxes) on a line of its own — the label as shown, its language, the form version and
the time (UTC ISO in CSV, the display zone in the spreadsheet); a tombstone's is empty, as are
its answers. JSON carries the records as stored.

CSV is what people open in spreadsheets, so it is UTF-8 with a byte-order mark (Excel then
reads umlauts right), ``,`` or ``;`` as delimiter (German Excel expects ``;``), and every cell
that a spreadsheet would take for a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or
carriage return) gets a leading ``'`` so that opening an export never runs an applicant's
"formula" (CSV injection). CSV and JSON are for machines: ids, ISO times, answers as stored.

The ``.xlsx`` export is for people: openpyxl's write-only workbook streams the rows into a
temporary file, with TYPED cells — text stays text (a postcode keeps its leading zero, a
text starting with ``=`` is never a formula), numbers are numbers, dates are dates (times in
the display zone, as Excel has no zones) — headers are the field labels of the newest form
version that has the field, options show their labels and yes/no answers the reader's words.
"""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from typing import IO, TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from engine.exceptions import InvalidInput
from engine.files import is_file_ref
from engine.model import Field
from engine.records import ExportRow, InboxFilter, Position
from engine.rows import rows_text
from engine.services.loading import form_of
from engine.text import localize

if TYPE_CHECKING:
    from engine.storage import Database


__all__ = [
    "BASE_COLUMNS",
    "CONSENTS_COLUMN",
    "DEFAULT_BATCH_SIZE",
    "ExportPlan",
    "SheetWords",
    "consents_text",
    "csv_chunks",
    "export_plan",
    "export_rows",
    "json_chunks",
    "neutralise_cell",
    "xlsx_file",
]

BASE_COLUMNS = ("reference", "form", "form_version", "state", "created_at")
CONSENTS_COLUMN = "consents"
CONSENT_NOTE = "%(language)s, form version %(version)s, %(at)s"
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
    latest_fields: Mapping[str, tuple[Field, str]] = field(default_factory=dict)
    """Per answer column, the field of the newest form version that has it and that form's
    default language (for the spreadsheet's headers)."""

    @property
    def columns(self) -> tuple[str, ...]:
        return BASE_COLUMNS + self.answer_columns


def export_plan(db: Database, where: InboxFilter) -> ExportPlan:
    """The columns for exporting what ``where`` matches (the union of the form versions')."""
    with db.read() as store:
        version_rows = store.inbox.form_versions(where)
        records = [store.definitions.by_row_id(row_id) for row_id in version_rows]
    columns: dict[str, None] = {}
    latest: dict[str, tuple[Field, str, int]] = {}
    for record in records:
        if record is None:
            continue
        form = form_of(db, record)
        for form_field in form.fields():
            if form_field.is_input:
                columns.setdefault(form_field.id, None)
                known = latest.get(form_field.id)
                if known is None or known[2] <= record.version:
                    latest[form_field.id] = (form_field, form.default_language, record.version)
    return ExportPlan(
        where, tuple(columns), {key: (f, lang) for key, (f, lang, _v) in latest.items()}
    )


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
    writer.writerow([neutralise_cell(column) for column in (*plan.columns, CONSENTS_COLUMN)])
    yield BOM + _drain(buffer)
    columns = plan.answer_columns
    groups = {column: found[0] for column, found in plan.latest_fields.items()
              if found[0].is_group}
    files = {column for column, found in plan.latest_fields.items() if found[0].is_file}
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
            elif column in groups:
                cells.append(neutralise_cell(_rows_cell(groups[column], value, plan)))
            elif column in files:
                cells.append(neutralise_cell(_file_names(value)))
            else:
                cells.append(_safe_cell(value))
        cells.append(neutralise_cell(consents_text(row, CONSENT_NOTE, _utc_text)))
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
            "consents": [dict(c) for c in row.consents],
        }
        parts.append(("" if first else ",") + json.dumps(item, ensure_ascii=False))
        first = False
        if len(parts) >= batch_size:
            yield "".join(parts)
            parts.clear()
    parts.append("]}")
    yield "".join(parts)


@dataclass(frozen=True, slots=True)
class SheetWords:
    """What the spreadsheet says in the reader's language (the web layer translates)."""

    language: str
    zone: tzinfo
    base_headers: tuple[str, str, str, str, str]
    """Headers for reference, form, form version, state and time received."""
    state_labels: Mapping[str, str] = field(default_factory=dict)
    yes: str = "Ja"
    no: str = "Nein"
    consents_header: str = "Einwilligungen"
    consent_note: str = CONSENT_NOTE
    """What follows a consent's label, in brackets: ``%(language)s``, ``%(version)s``,
    ``%(at)s``."""


def xlsx_file(
    db: Database, plan: ExportPlan, words: SheetWords, *, batch_size: int = DEFAULT_BATCH_SIZE
) -> IO[bytes]:
    """The ``.xlsx`` export in a temporary file, positioned at its start (the caller closes it).

    The write-only workbook keeps no rows in memory; the rows come in keyset batches.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Export")
    headers = list(words.base_headers)
    for column in plan.answer_columns:
        latest = plan.latest_fields.get(column)
        label = localize(latest[0].label, words.language, latest[1]) if latest else ""
        headers.append(label or column)
    headers.append(words.consents_header)
    time_format = "%d.%m.%Y %H:%M" if words.language == "de" else "%Y-%m-%d %H:%M"

    def local_text(moment: datetime) -> str:
        return _local(moment, words.zone).strftime(time_format)

    sheet.append([_text(sheet, header) for header in headers])
    fields_of: dict[int, tuple[dict[str, Field], str]] = {}
    for row in export_rows(db, plan.where, batch_size=batch_size):
        known = fields_of.get(row.form_version_row)
        if known is None:
            known = fields_of[row.form_version_row] = _version_fields(db, row.form_version_row)
        fields, default_language = known
        created = WriteOnlyCell(sheet, value=_local(row.created_at, words.zone))
        created.number_format = "DD.MM.YYYY HH:MM" if words.language == "de" else \
            "YYYY-MM-DD HH:MM"
        cells: list[Any] = [
            _text(sheet, row.reference),
            _text(sheet, row.form_id),
            row.form_version,
            _text(sheet, words.state_labels.get(row.state, row.state)),
            created,
        ]
        for column in plan.answer_columns:
            cells.append(_sheet_cell(sheet, fields.get(column), row.answers.get(column),
                                     words, default_language))
        consents = consents_text(row, words.consent_note, local_text)
        cells.append(_text(sheet, consents) if consents else None)
        sheet.append(cells)
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)
    workbook.save(spool)
    spool.seek(0)
    return spool


def consents_text(row: ExportRow, note: str, when: Callable[[datetime], str]) -> str:
    """``row``'s consent records as one cell, a line each: the label as shown, then ``note``
    in brackets, its time written by ``when``. A tombstone keeps its consents (they name no
    one; docs/administrators.md, "Personal data")."""
    lines = []
    for consent in row.consents:
        at = str(consent.get("at", ""))
        try:
            at = when(datetime.fromisoformat(at))
        except ValueError:
            pass  # not a time: shown as stored
        details = note % {"language": consent.get("language", ""),
                          "version": consent.get("form_version", ""), "at": at}
        lines.append(f"{consent.get('label', '')} ({details})")
    return "\n".join(lines)


def _utc_text(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat()


def _version_fields(db: Database, form_version_row: int) -> tuple[dict[str, Field], str]:
    """The fields of one form version by id, and its default language."""
    with db.read() as store:
        record = store.definitions.by_row_id(form_version_row)
    if record is None:
        return {}, "de"
    form = form_of(db, record)
    return form.field_map(), form.default_language


def _sheet_cell(
    sheet: Any, form_field: Field | None, value: Any, words: SheetWords, default_language: str
) -> Any:
    """One answer as a typed cell: see the module docstring."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return _text(sheet, words.yes if value else words.no)
    if form_field is not None and form_field.is_group:
        return _text(sheet, _rows_cell_in(form_field, value, words.language, default_language))
    if form_field is not None and form_field.is_file:
        return _text(sheet, _file_names(value))
    if isinstance(value, int | float):
        return value
    kind = form_field.type if form_field is not None else "text"
    if kind == "date" and isinstance(value, str):
        try:
            day = date.fromisoformat(value)
        except ValueError:
            return _text(sheet, value)
        # a midnight datetime: openpyxl writes it as an Excel date; the format shows the day
        cell = WriteOnlyCell(sheet, value=datetime.combine(day, time.min))
        cell.number_format = "DD.MM.YYYY" if words.language == "de" else "YYYY-MM-DD"
        return cell
    if form_field is not None and form_field.options:
        labels = {o.value: o.label for o in form_field.options}
        items = value if isinstance(value, list) else [value]
        shown = [
            localize(labels[item], words.language, default_language)
            if item in labels else str(item)
            for item in items
        ]
        return _text(sheet, "; ".join(shown))
    if isinstance(value, list):
        return _text(sheet, "; ".join(str(item) for item in value))
    return _text(sheet, str(value))


def _file_names(value: Any) -> str:
    """A file answer as the files' names, one a line (the files stay in the database)."""
    refs = value if isinstance(value, list) else []
    return "\n".join(str(ref["name"]) for ref in refs if is_file_ref(ref))


def _rows_cell(group: Field, rows: Any, plan: ExportPlan) -> str:
    """A repeating group's rows as one CSV cell (labels in the latest version's language)."""
    language = plan.latest_fields[group.id][1]
    return _rows_cell_in(group, rows, language, language)


def _rows_cell_in(group: Field, rows: Any, language: str, default_language: str) -> str:
    """A repeating group's rows as one cell: a line per row, cells named by their labels and
    options by theirs."""
    lang = language

    def cell_text(cell: Field | None, value: Any) -> str:
        if cell is not None and cell.options:
            labels = {o.value: localize(o.label, lang, default_language) or o.value
                      for o in cell.options}
            items = value if isinstance(value, list) else [value]
            return ", ".join(labels.get(item, str(item)) for item in items)
        if isinstance(value, bool):
            return "✓" if value else "–"
        return _cell(value)

    return rows_text(group, rows,
                     lambda cell: localize(cell.label, lang, default_language) or cell.id,
                     cell_text)


def _text(sheet: Any, value: str) -> Any:
    """A text cell that stays text: never a formula, never a number (leading zeros kept)."""
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell


def _local(moment: datetime, zone: tzinfo) -> datetime:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).replace(tzinfo=None)


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

