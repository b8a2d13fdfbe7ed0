"""Answers in words for the applicant's pages: the review page's sections (option labels,
Yes/No, localised dates, a group's rows, file names and sizes) and the error summary that links
each message to its field (on the step, or from the review back to the step)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import url_for
from flask_babel import gettext as _

from engine.answers import convert, is_empty
from engine.evaluation import Evaluation, row_evaluations
from engine.model import Field
from engine.rows import rows_text
from web.applicant.forms import dom_id, number_text
from web.applicant.work import LoadedForm
from web.i18n import current_language, long_date
from web.uploads import file_size

__all__ = ["REVIEW_ARGS", "answer_text", "error_summary", "review_sections", "rows_display"]

REVIEW_ARGS: dict[str, Any] = {"return": "review"}
"""Query of a step page opened from the review ("Ändern"): *Next* returns to the review."""


def error_summary(
    loaded: LoadedForm, errors: dict[str, list[str]], *, link_to_steps: bool = False
) -> list[dict[str, str]]:
    """One entry per message for the error summary, linking to its field."""
    fields = loaded.form.field_map()
    entries = []
    for field_id, messages in errors.items():
        f = fields.get(field_id)
        if f is None:
            continue
        anchor = dom_id(field_id)
        href = f"#{anchor}"
        if link_to_steps:
            href = url_for(".step", form_id=loaded.id, step_id=f.step, _anchor=anchor,
                           **REVIEW_ARGS)
        for message in messages:
            entries.append(
                {"field": field_id, "href": href, "label": loaded.text(f.label) or field_id,
                 "message": message}
            )
    return entries


def review_sections(
    loaded: LoadedForm, answers: dict[str, Any], evaluation: Evaluation
) -> list[dict[str, Any]]:
    visible = set(evaluation.visible_fields)
    sections = []
    for s in loaded.form.steps:
        if s.id not in evaluation.visible_steps:
            continue
        rows = [
            {
                "id": f.id,
                "label": loaded.text(f.label) or f.id,
                "value": (number_text(evaluation.calculated.get(f.id)) or str(_("Not answered"))
                          if f.is_calculated else rows_display(loaded, f, answers.get(f.id))
                          if f.is_group else answer_text(loaded, f, answers.get(f.id))),
                "errors": evaluation.errors.get(f.id, []),
                "change_url": url_for(".step", form_id=loaded.id, step_id=s.id,
                                      _anchor=dom_id(f.id), **REVIEW_ARGS),
            }
            for f in s.fields if f.is_input and f.id in visible
        ]
        sections.append({"id": s.id, "title": loaded.text(s.title) or s.id, "rows": rows,
                         "change_url": url_for(".step", form_id=loaded.id, step_id=s.id,
                                               **REVIEW_ARGS)})
    return sections


def rows_display(loaded: LoadedForm, group: Field, raw: Any) -> str:
    """A repeating group's rows, one line each, with only the cells visible in each row."""
    rows = [row for row in raw if isinstance(row, dict)] if isinstance(raw, list) else []
    if not rows:
        return str(_("Not answered"))
    shown = []
    for row, result in zip(rows, row_evaluations(loaded.compiled, group.id, rows,
                                                 current_language()), strict=True):
        visible = set(result.visible_fields)
        shown.append({**{k: v for k, v in row.items() if k in visible}, **result.calculated})

    def cell_text(cell: Field | None, value: Any) -> str:
        if cell is None:
            return str(value)
        if cell.is_calculated:
            return number_text(value)
        return answer_text(loaded, cell, value)

    return rows_text(group, shown, lambda cell: loaded.text(cell.label) or cell.id, cell_text)


def answer_text(loaded: LoadedForm, f: Field, raw: Any) -> str:
    """An answer in words: option labels, Yes/No, a localised date; empty says so."""
    value, error = convert(f, raw)
    if error is not None:
        return str(raw) if not isinstance(raw, list) else ", ".join(map(str, raw))
    if f.type == "checkbox":
        return str(_("Yes") if value else _("No"))
    if is_empty(value):
        return str(_("Not answered"))
    if f.is_file and isinstance(value, list):
        return "\n".join(f"{ref['name']} ({file_size(ref['size'])})" for ref in value)
    labels = {o.value: loaded.text(o.label) or o.value for o in f.options}
    if f.type in ("select", "radio") and isinstance(value, str):
        return labels.get(value, value)
    if f.type == "checkboxes" and isinstance(value, list):
        return ", ".join(labels.get(v, v) for v in value)
    if f.type == "date" and isinstance(value, str):
        try:
            return long_date(datetime.fromisoformat(value).date())
        except ValueError:
            return value
    return str(value)
