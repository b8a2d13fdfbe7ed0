"""WTForms fields built from one step of a FormDefinition, and what a template needs per field.

WTForms renders the controls (escaping, ``checked``/``selected``, option ids); it validates
nothing — the engine's evaluation is the only validation (written once, same messages for the
pages, the API and the browser). CSRF is Flask-WTF's, checked for the whole app in
``web.security``.

Every field is rendered, visible or not: a field the rules hide right now is rendered
``hidden`` with its controls ``disabled`` (so the browser does not send them) and marked
``data-formflow-disabled`` — the mark tells ``formflow-form.js`` it may enable them again when
the applicant's answers show the field. Without JavaScript the page simply reflects the
server's evaluation.

Ids follow one scheme that the error summary, labels and tests rely on:
``field-<id>`` (the control, or the fieldset of a group), ``field-<id>-<n>`` (the n-th option
of a group), ``field-<id>-help``, ``field-<id>-error``, ``field-<id>-counter``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup
from wtforms import (
    BooleanField,
    Field,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.core import UnboundField
from wtforms.form import BaseForm
from wtforms.widgets import (
    CheckboxInput,
    DateInput,
    EmailInput,
    ListWidget,
    NumberInput,
    TelInput,
    TextInput,
    URLInput,
)

from engine.model import TEXT_TYPES, FormDefinition, Step
from engine.model import Field as FieldDefinition
from engine.text import Text, localize

try:  # WTForms >= 3.3
    from wtforms.fields.choices import SelectChoice
except ImportError:  # pragma: no cover - older WTForms take (value, label) tuples
    SelectChoice = None

__all__ = ["FieldView", "build_step_fields", "counter_text", "dom_id"]

INPUT_MODES = {"tel": "tel", "email": "email", "url": "url"}
AUTOCOMPLETE_BY_TYPE = {"tel": "tel", "email": "email", "url": "url"}
PLAIN_WIDGETS = {"text": TextInput(), "email": EmailInput(), "tel": TelInput(), "url": URLInput()}
DISABLED_MARK = "data-formflow-disabled"
"""Set on controls the server disabled because their field is hidden (formflow-form.js)."""


def dom_id(field_id: str) -> str:
    return f"field-{field_id}"


def counter_text(f: FieldDefinition, raw: Any) -> str:
    """"n / max" as the browser script writes it: code points of the trimmed text."""
    count = len(raw.strip()) if isinstance(raw, str) else 0
    return f"{count} / {f.max_length}" if f.max_length is not None else str(count)


@dataclass
class FieldView:
    """One field as the step template renders it."""

    definition: FieldDefinition
    bound: Field | None
    """The WTForms field (None for a paragraph)."""
    label: str
    help: str
    errors: list[str]
    visible: bool
    required: bool
    placeholder: str = ""
    counter: str | None = None
    paragraphs: list[str] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def kind(self) -> str:
        """How the template lays it out: paragraph, group (fieldset), checkbox or input."""
        if self.definition.type == "paragraph":
            return "paragraph"
        if self.definition.type in ("radio", "checkboxes"):
            return "group"
        if self.definition.type == "checkbox":
            return "checkbox"
        return "input"

    @property
    def dom_id(self) -> str:
        return dom_id(self.id)

    @property
    def help_id(self) -> str:
        return f"{self.dom_id}-help"

    @property
    def error_id(self) -> str:
        return f"{self.dom_id}-error"

    @property
    def counter_id(self) -> str:
        return f"{self.dom_id}-counter"

    @property
    def describedby(self) -> str | None:
        ids = [self.help_id] if self.help else []
        if self.errors:
            ids.append(self.error_id)
        return " ".join(ids) or None

    def wrapper_attrs(self) -> Markup:
        """Attributes of the ``data-field`` element (a fieldset for groups)."""
        attrs: dict[str, Any] = {"data-field": self.id, "hidden": not self.visible}
        if self.kind == "group":
            attrs.update(
                {
                    "id": self.dom_id,
                    "tabindex": "-1",  # the error summary links here
                    "aria-describedby": self.describedby or False,
                    "aria-required": "true" if self.required and self.visible else False,
                    "aria-invalid": "true" if self.errors else False,
                    "disabled": not self.visible,
                    DISABLED_MARK: not self.visible,
                }
            )
            if self.definition.type == "radio":
                attrs["role"] = "radiogroup"
        return _attributes(attrs)

    def control(self) -> Markup:
        """The single control of a non-group field."""
        assert self.bound is not None and self.kind in ("input", "checkbox")
        attrs = self._state_attrs()
        attrs["aria-describedby"] = self.describedby or False
        attrs["aria-invalid"] = "true" if self.errors else False
        attrs["aria-required"] = "true" if self.required and self.visible else False
        f = self.definition
        if f.type == "checkbox":
            attrs["value"] = "true"
        else:
            attrs.update(_input_attrs(f))
            if self.placeholder and f.type != "select":
                attrs["placeholder"] = self.placeholder
        return Markup(self.bound(**attrs))

    def options(self) -> list[tuple[Markup, Markup]]:
        """(control, label) for each option of a radio or checkbox group."""
        assert self.bound is not None and self.kind == "group"
        attrs = self._state_attrs()
        if self.definition.type == "checkboxes":
            attrs["required"] = False  # one `required` per box would demand every box
        return [(Markup(option(**attrs)), Markup(option.label)) for option in self.bound]

    def _state_attrs(self) -> dict[str, Any]:
        return {
            "required": self.required and self.visible,
            "disabled": not self.visible,
            DISABLED_MARK: not self.visible,
        }


def _input_attrs(f: FieldDefinition) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    if f.type in TEXT_TYPES:
        if f.max_length is not None:
            attrs["maxlength"] = str(f.max_length)
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
    return attrs


def _attributes(attrs: Mapping[str, Any]) -> Markup:
    parts = []
    for name, value in attrs.items():
        if value is True:
            parts.append(Markup(" {}").format(name))
        elif value is not False and value is not None:
            parts.append(Markup(' {}="{}"').format(name, value))
    return Markup("").join(parts)


def _choice(value: str, label: str) -> Any:
    """One option; WTForms 3.3 wants ``SelectChoice`` objects, older versions tuples."""
    if SelectChoice is None:
        return (value, label)
    return SelectChoice(value, label)


def _unbound(
    f: FieldDefinition, text: Callable[[Text], str], choose_label: str
) -> UnboundField | None:
    common: dict[str, Any] = {"label": text(f.label) or f.id, "id": dom_id(f.id), "name": f.id}
    choices = [_choice(o.value, text(o.label) or o.value) for o in f.options]
    if f.type in PLAIN_WIDGETS:
        return StringField(widget=PLAIN_WIDGETS[f.type], **common)
    if f.type == "textarea":
        return TextAreaField(**common)
    if f.type == "number":
        return StringField(widget=NumberInput(), **common)
    if f.type == "date":
        return StringField(widget=DateInput(), **common)
    if f.type == "select":
        empty = text(f.placeholder) or choose_label
        return SelectField(
            choices=[_choice("", empty), *choices], validate_choice=False, **common
        )
    if f.type == "radio":
        return RadioField(choices=choices, validate_choice=False, **common)
    if f.type == "checkboxes":
        return SelectMultipleField(
            choices=choices,
            validate_choice=False,
            widget=ListWidget(prefix_label=False),
            option_widget=CheckboxInput(),
            **common,
        )
    if f.type == "checkbox":
        return BooleanField(**common)
    return None  # paragraph: text, no control


def _initial(f: FieldDefinition, raw: Any) -> Any:
    """A raw answer as the WTForms field of its type holds it."""
    if f.type == "checkbox":
        return raw is True or (isinstance(raw, str) and raw.strip().lower() in ("true", "on", "1"))
    if f.type == "checkboxes":
        if isinstance(raw, str):
            return [raw]
        return [str(v) for v in raw] if isinstance(raw, list | tuple) else []
    if raw is None:
        return None
    return raw if isinstance(raw, str) else str(raw)


def build_step_fields(
    form: FormDefinition,
    step: Step,
    answers: Mapping[str, Any],
    *,
    visible: Sequence[str],
    required: Sequence[str],
    errors: Mapping[str, list[str]],
    language: str,
    choose_label: str,
) -> list[FieldView]:
    """The fields of ``step`` ready to render with the current raw ``answers``."""

    def text(value: Text) -> str:
        return localize(value, language, form.default_language)

    unbound = [(f.id, _unbound(f, text, choose_label)) for f in step.fields]
    wtform = BaseForm([(name, u) for name, u in unbound if u is not None])
    wtform.process(
        data={f.id: _initial(f, answers.get(f.id)) for f in step.fields if f.is_input}
    )
    shown, needed = set(visible), set(required)
    views = []
    for f in step.fields:
        view = FieldView(
            definition=f,
            bound=wtform[f.id] if f.is_input else None,
            label=text(f.label),
            help=text(f.help),
            errors=list(errors.get(f.id, [])),
            visible=f.id in shown,
            required=f.id in needed,
            placeholder=text(f.placeholder),
        )
        if f.type == "paragraph":
            view.paragraphs = [p.strip() for p in text(f.content).split("\n\n") if p.strip()]
        if f.counter and f.type in TEXT_TYPES:
            view.counter = counter_text(f, answers.get(f.id))
        views.append(view)
    return views
