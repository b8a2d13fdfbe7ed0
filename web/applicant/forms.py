"""The fields of one step as a WTForms form, built from the form definition.

:func:`build_step_form` makes a :class:`StepForm` subclass for one step of one form definition
in one language: one WTForms field per input field of the step, with its label, help text
(``description``), choices and the static HTML attributes the definition asks for
(``render_kw``: ``maxlength``, ``autocomplete``, ``min`` …). A published version never
changes, so its classes are kept by content hash (:func:`step_form_class`); the admin preview
builds one for each draft it shows. Each request makes an instance bound to its raw answers,
and the macros of ``templates/applicant/_fields.html`` render it, one macro per kind of field.

The fields carry no validators and the form is never validated: the engine's evaluation is
the only validation (same messages for the pages, the API and the browser). CSRF is
Flask-WTF's, checked for the whole app in ``web.security``.

Ids follow one scheme that the error summary, labels and tests rely on:
``field-<id>`` (the control, or the fieldset of a group), ``field-<id>-<n>`` (the n-th option
of a group), ``field-<id>-help``, ``field-<id>-error``, ``field-<id>-counter``. The admin
preview uses ``pv-`` instead of ``field-``, so its ids never meet the editor's own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from wtforms import (
    BooleanField,
    FileField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.fields.core import UnboundField
from wtforms.form import BaseForm
from wtforms.widgets import (
    CheckboxInput,
    DateInput,
    EmailInput,
    NumberInput,
    TelInput,
    TextInput,
    URLInput,
)

from engine.evaluation import CompiledForm, compile_form, evaluate, row_form
from engine.files import is_file_ref
from engine.model import TEXT_TYPES, FormDefinition, Step
from engine.model import Field as FieldDefinition
from engine.text import Text, localize

__all__ = [
    "ID_PREFIX", "ROW_PLACEHOLDER", "StepForm", "build_step_form", "dom_id", "number_text",
    "row_form_class", "row_names", "step_form_class",
]

ID_PREFIX = "field-"
INPUT_MODES = {"tel": "tel", "email": "email", "url": "url"}
AUTOCOMPLETE_BY_TYPE = {"tel": "tel", "email": "email", "url": "url"}
WIDGETS = {
    "text": TextInput(), "email": EmailInput(), "tel": TelInput(), "url": URLInput(),
    "number": NumberInput(), "date": DateInput(),
}
"""Text-like inputs: a string field each, so a typed value comes back exactly as typed."""


def dom_id(field_id: str, prefix: str = ID_PREFIX) -> str:
    return f"{prefix}{field_id}"


@dataclass(frozen=True)
class RowView:
    """One row of a repeating group as a page shows it: its controls and its own evaluation."""

    index: int | str
    form: StepForm
    visible: set[str]
    required: set[str]
    errors: dict[str, list[str]]


@dataclass(frozen=True)
class GroupView:
    rows: list[RowView]
    template: RowView
    """An empty row numbered ``ROW_PLACEHOLDER``, which formflow-form.js copies for "add row"."""


class StepForm(BaseForm):
    """The fields of one step, bound to one set of raw answers.

    ``BaseForm`` rather than the declarative ``Form``: the fields are named by the definition's
    field ids, and an id such as ``data`` or ``errors`` must not meet a ``Form`` attribute.
    """

    step: ClassVar[Step]
    id_prefix: ClassVar[str]
    name_prefix: ClassVar[str] = ""
    """Before every control's name: ``costs-2-`` for the cells of row 2 of group ``costs``."""
    unbound_fields: ClassVar[tuple[tuple[str, UnboundField], ...]]
    paragraphs: ClassVar[Mapping[str, tuple[str, ...]]]
    """The text of each paragraph of the step, split at blank lines."""
    calculated: ClassVar[Mapping[str, tuple[str, str]]]
    """The label and help text of each calculated field and repeating group of the step (they
    have no control of their own)."""

    form_definition: ClassVar[FormDefinition]
    language: ClassVar[str]
    choose_label: ClassVar[str]
    content_hash: ClassVar[str | None] = None
    row_forms: ClassVar[Mapping[str, CompiledForm]]
    """Each repeating group's row form, compiled once with the class."""

    def __init__(
        self, answers: Mapping[str, Any], values: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(self.unbound_fields, prefix=self.name_prefix)
        self.process(data={
            f.id: field_data(f, answers.get(f.id)) for f in self.step.fields if _has_control(f)
        })
        self.values = dict(values or {})
        """The calculated fields' values as the server computed them (``Evaluation``)."""
        self.groups = {f.id: self._group(f, answers.get(f.id))
                       for f in self.step.fields if f.is_group}
        self.saved_files = {
            f.id: [ref for ref in answers.get(f.id) or [] if is_file_ref(ref)]
            for f in self.step.fields if f.is_file
        }
        """The files a file field already has (kept unless the page unticks them)."""

    @property
    def has_files(self) -> bool:
        return any(f.is_file for f in self.step.fields)

    def _group(self, group: FieldDefinition, raw: Any) -> GroupView:
        rows = [row for row in raw if isinstance(row, dict)] if isinstance(raw, list) else []
        rows = rows[:group.repeat_max + 1]

        def row_class(row: int | str) -> type[StepForm]:
            return row_form_class(self.content_hash, self.form_definition, group, row,
                                  self.language, self.choose_label, self.id_prefix)

        views = []
        for index, row in enumerate(rows):
            result = evaluate(self.row_forms[group.id], row, self.language)
            views.append(RowView(index, row_class(index)(row, result.calculated),
                                 set(result.visible_fields), set(result.required),
                                 result.errors))
        empty = evaluate(self.row_forms[group.id], {}, self.language)
        template = RowView(ROW_PLACEHOLDER, row_class(ROW_PLACEHOLDER)({}, empty.calculated),
                           set(empty.visible_fields), set(empty.required), {})
        return GroupView(views, template)

    def group_label(self, field_id: str) -> str:
        return self.calculated[field_id][0]

    def group_help(self, field_id: str) -> str:
        return self.calculated[field_id][1]

    def value_text(self, field_id: str) -> str:
        """A calculated value as the page shows it (and formflow-form.js writes it live)."""
        return number_text(self.values.get(field_id))

    def dom_id(self, field_id: str) -> str:
        return dom_id(field_id, self.id_prefix)


def build_step_form(
    form: FormDefinition,
    step: Step,
    language: str,
    *,
    choose_label: str,
    id_prefix: str = ID_PREFIX,
    name_prefix: str = "",
    content_hash: str | None = None,
) -> type[StepForm]:
    """The form class of ``step`` with the texts in ``language`` (the form's own language when
    it has none); ``choose_label`` is the empty option of a select without a placeholder.
    ``name_prefix`` and ``id_prefix`` set apart the controls of one row of a repeating group."""

    def text(value: Text) -> str:
        return localize(value, language, form.default_language)

    fields = tuple(
        (f.id, _unbound(f, text, choose_label, id_prefix)) for f in step.fields if _has_control(f)
    )
    paragraphs = {
        f.id: tuple(p.strip() for p in text(f.content).split("\n\n") if p.strip())
        for f in step.fields if f.type == "paragraph"
    }
    calculated = {f.id: (text(f.label) or f.id, text(f.help))
                  for f in step.fields if f.is_calculated or f.is_group}
    return type("StepForm", (StepForm,), {
        "step": step, "id_prefix": id_prefix, "unbound_fields": fields, "paragraphs": paragraphs,
        "calculated": calculated, "name_prefix": name_prefix, "form_definition": form,
        "language": language, "choose_label": choose_label, "content_hash": content_hash,
        "row_forms": {f.id: compile_form(row_form(form, f)) for f in step.fields if f.is_group},
    })


ROW_PLACEHOLDER = "__row__"
"""The row number in the names and ids of the row template formflow-form.js copies."""


def row_names(group_id: str, row: int | str) -> tuple[str, str]:
    """(name prefix, id prefix) of the controls of ``row`` of a repeating group."""
    return f"{group_id}-{row}-", f"{ID_PREFIX}{group_id}-{row}-"


def row_form_class(
    content_hash: str | None, form: FormDefinition, group: FieldDefinition, row: int | str,
    language: str, choose_label: str, id_prefix: str = ID_PREFIX,
) -> type[StepForm]:
    """The form class of one row of a repeating group (kept per published version like
    ``step_form_class``; ``content_hash`` ``None`` builds a fresh one, for the preview)."""
    key = (content_hash or "", f"{group.id}:{row}:{id_prefix}", language)
    found = _published.get(key) if content_hash else None
    if found is None:
        row_step = row_form(form, group).steps[0]
        names, ids = row_names(group.id, row)
        found = build_step_form(form, row_step, language, choose_label=choose_label,
                                id_prefix=id_prefix + ids[len(ID_PREFIX):], name_prefix=names,
                                content_hash=content_hash)
        if content_hash:
            _published[key] = found
    return found


def _has_control(f: FieldDefinition) -> bool:
    return f.is_input and not f.is_calculated and not f.is_group


def number_text(value: Any) -> str:
    """A computed number as text: what JavaScript's ``String(number)`` gives for the doubles a
    calculation yields below 1e21 (``"1234.5"``, ``"0.30000000000000004"``); empty when empty."""
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)


_published: dict[tuple[str, str, str], type[StepForm]] = {}


def step_form_class(
    content_hash: str, form: FormDefinition, step: Step, language: str, choose_label: str
) -> type[StepForm]:
    """The form class of a step of a published version (``content_hash``), built once per
    (version, step, language): a version never changes."""
    key = (content_hash, step.id, language)
    found = _published.get(key)
    if found is None:
        found = _published[key] = build_step_form(form, step, language,
                                                  choose_label=choose_label,
                                                  content_hash=content_hash)
    return found


def field_data(f: FieldDefinition, raw: Any) -> Any:
    """A raw answer (as typed, or as stored) as the WTForms field of its type holds it."""
    if f.type == "checkbox":
        return raw is True or (isinstance(raw, str) and raw.strip().lower() in ("true", "on", "1"))
    if f.type == "checkboxes":
        if isinstance(raw, str):
            return [raw]
        return [str(v) for v in raw] if isinstance(raw, list | tuple) else []
    if raw is None or f.type == "file":  # a file control never shows a value
        return None
    return raw if isinstance(raw, str) else str(raw)


def _unbound(
    f: FieldDefinition, text: Callable[[Text], str], choose_label: str, id_prefix: str
) -> UnboundField:
    common: dict[str, Any] = {
        "label": text(f.label) or f.id,
        "description": text(f.help),
        "id": dom_id(f.id, id_prefix),
        "render_kw": _static_attributes(f, text(f.placeholder)),
    }
    choices = [SelectChoice(o.value, text(o.label) or o.value) for o in f.options]
    if f.type in WIDGETS:
        return StringField(widget=WIDGETS[f.type], **common)
    if f.type == "textarea":
        return TextAreaField(**common)
    if f.type == "select":
        empty = text(f.placeholder) or choose_label
        return SelectField(choices=[SelectChoice("", empty), *choices], **common)
    if f.type == "radio":
        return RadioField(choices=choices, **common)
    if f.type == "checkboxes":
        return SelectMultipleField(choices=choices, option_widget=CheckboxInput(), **common)
    if f.type == "checkbox":
        return BooleanField(**common)
    if f.type == "file":
        return (MultipleFileField if f.max_files > 1 else FileField)(**common)
    raise ValueError(f"no control for a field of type {f.type!r}")


def _static_attributes(f: FieldDefinition, placeholder: str) -> dict[str, str]:
    """The HTML attributes a control takes from the definition alone."""
    attrs: dict[str, str] = {}
    if f.type in TEXT_TYPES:
        if f.length_limit is not None:  # the declared max_length, else the default cap
            attrs["maxlength"] = str(f.length_limit)
        if f.min_length is not None:
            attrs["minlength"] = str(f.min_length)
        autocomplete = f.autocomplete or AUTOCOMPLETE_BY_TYPE.get(f.type)
        if autocomplete:
            attrs["autocomplete"] = autocomplete
        if f.type in INPUT_MODES:
            attrs["inputmode"] = INPUT_MODES[f.type]
    elif f.type == "number":
        attrs["inputmode"] = "decimal"
        if f.min is not None:
            attrs["min"] = str(f.min)
        if f.max is not None:
            attrs["max"] = str(f.max)
        attrs["step"] = str(f.step_size) if f.step_size else "any"
    elif f.type == "date":
        if f.min is not None:
            attrs["min"] = str(f.min)
        if f.max is not None:
            attrs["max"] = str(f.max)
    elif f.type == "checkbox":
        attrs["value"] = "true"
    elif f.type == "file" and f.accept:
        attrs["accept"] = ",".join(f.accept)
    if placeholder and f.type in TEXT_TYPES | {"number", "date"}:
        attrs["placeholder"] = placeholder
    return attrs
