"""A repeating group's rows as readable text, written once for every place that shows them as
one value: the review and coordinator pages, the CSV and spreadsheet exports."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from engine.model import Field

__all__ = ["rows_text"]


def rows_text(
    group: Field | None,
    rows: Any,
    label: Callable[[Field], str],
    value: Callable[[Field | None, Any], str],
) -> str:
    """``1. Bezeichnung: Miete; Betrag: 6000`` per row, one line each; ``label`` names a cell
    and ``value`` words its answer. Cells are in the group's order (keys the group does not
    know, say of another version, after them under their ids); empty cells are left out."""
    if not isinstance(rows, Sequence) or isinstance(rows, str):
        return ""
    cells = group.fields if group is not None else ()
    lines = []
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            continue
        known = {cell.id for cell in cells}
        parts = [f"{label(cell)}: {value(cell, row[cell.id])}" for cell in cells
                 if cell.is_input and _answered(row.get(cell.id))]
        parts += [f"{key}: {value(None, item)}" for key, item in row.items()
                  if key not in known and _answered(item)]
        lines.append(f"{number}. " + "; ".join(parts))
    return "\n".join(lines)


def _answered(value: Any) -> bool:
    return value is not None and value != "" and value != []
