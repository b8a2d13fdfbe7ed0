"""The fields of one step as the step template renders them: WTForms controls, rendered once.

WTForms renders the controls (escaping, ``checked``/``selected``, option ids); it validates
nothing — the engine's evaluation is the only validation (written once, same messages for the
pages, the API and the browser). CSRF is Flask-WTF's, checked for the whole app in
``web.security``.

Every field is rendered, visible or not: a field the rules hide right now is rendered
``hidden`` with its controls ``disabled`` (so the browser does not send them) and marked
``data-formflow-disabled`` — the mark tells ``formflow-form.js`` it may enable them again when
the applicant's answers show the field. Without JavaScript the page simply reflects the
server's evaluation.

A step page is requested far more often than a form changes, so everything that depends only
on (published version, step, language) is prepared once in a :class:`StepLayout`: the texts,
the WTForms field classes, and each control as WTForms renders it for each of the few states
a control can be in (shown/hidden × required × invalid, and for choices which option is
chosen). A typed value is never kept there: the control of a text-like field is rendered
once around a marker, and each request puts the escaped value where the marker was. So the
HTML is exactly what WTForms writes, and a request only looks the pieces up.

Ids follow one scheme that the error summary, labels and tests rely on:
``field-<id>`` (the control, or the fieldset of a group), ``field-<id>-<n>`` (the n-th option
of a group), ``field-<id>-help``, ``field-<id>-error``, ``field-<id>-counter``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from markupsafe import Markup, escape
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

__all__ = ["FieldLayout", "FieldView", "StepLayout", "counter_text", "dom_id"]

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


State = tuple[bool, bool, bool]
"""What a field's markup depends on besides its value: (visible, required, invalid)."""

VALUE_MARK = "ffVALUEd41d8cd98f"
"""Stands for a typed value while a text-like control is rendered once (letters and digits:
escaping leaves it as it is)."""


class FieldLayout:
    """One field of a step in one language: its texts, ids and WTForms field class, and its
    controls as rendered per :data:`State` (filled on first use)."""

    def __init__(
        self, f: FieldDefinition, text: Callable[[Text], str], choose_label: str
    ) -> None:
        self.definition = f
        self.id = f.id
        self.dom_id = dom_id(f.id)
        self.help_id = f"{self.dom_id}-help"
        self.error_id = f"{self.dom_id}-error"
        self.counter_id = f"{self.dom_id}-counter"
        self.label = text(f.label)
        self.help = text(f.help)
        self.placeholder = text(f.placeholder)
        self.paragraphs = (
            [p.strip() for p in text(f.content).split("\n\n") if p.strip()]
            if f.type == "paragraph" else []
        )
        self.kind = _kind(f)
        self.counted = bool(f.counter and f.type in TEXT_TYPES)
        self.values = tuple(o.value for o in f.options)
        self.unbound = _unbound(f, text, choose_label)
        self._rendered: dict[State, _Rendered] = {}

    def rendered(self, state: State) -> _Rendered:
        found = self._rendered.get(state)
        if found is None:
            found = self._rendered[state] = _Rendered(self, *state)
        return found

    def render_control(self, data: Any, attrs: dict[str, Any]) -> Markup:
        """The control as WTForms renders it for ``data`` (a WTForms field bound for it)."""
        return Markup(self._bind(data)(**attrs))

    def render_options(self, attrs: dict[str, Any]) -> list[tuple[Markup, Markup, Markup]]:
        """(control, control when chosen, label) of each option of a group as WTForms renders
        them (a chosen option's widget adds ``checked``, as passing it does)."""
        return [
            (Markup(option(**attrs)), Markup(option(**attrs, checked=True)), Markup(option.label))
            for option in self._bind(None)
        ]

    def _bind(self, data: Any) -> Field:
        assert self.unbound is not None
        wtform = BaseForm([(self.id, self.unbound)])
        wtform.process(data={self.id: data})
        return wtform[self.id]


class _Rendered:
    """A field's markup in one :data:`State`: its wrapper's attributes and its controls, for
    any value."""

    def __init__(self, layout: FieldLayout, visible: bool, required: bool, invalid: bool):
        self.layout = layout
        ids = [layout.help_id] if layout.help else []
        if invalid:
            ids.append(layout.error_id)
        describedby = " ".join(ids) or False
        needed = "true" if required and visible else False
        f = layout.definition
        wrapper: dict[str, Any] = {"data-field": layout.id, "hidden": not visible}
        if layout.kind == "group":
            wrapper.update(
                {
                    "id": layout.dom_id,
                    "tabindex": "-1",  # the error summary links here
                    "aria-describedby": describedby,
                    "aria-required": needed,
                    "aria-invalid": "true" if invalid else False,
                    "disabled": not visible,
                    DISABLED_MARK: not visible,
                }
            )
            if f.type == "radio":
                wrapper["role"] = "radiogroup"
        self.wrapper_attrs = _attributes(wrapper)
        attrs = {
            "required": required and visible,
            "disabled": not visible,
            DISABLED_MARK: not visible,
        }
        self.around: tuple[str, str] | None = None
        """A text-like control split where its value goes (None: rendered per request)."""
        self.keys: frozenset[Any] | None = None
        """The values a control with choices (select, checkbox) is rendered for, each on first
        use into ``controls``; any other value renders as None (nothing chosen)."""
        self.controls: dict[Any, Markup] = {}
        self.choices: list[tuple[str, Markup, Markup, Markup]] = []
        """A group's options: (value, control, control when chosen, label)."""
        if layout.kind == "group":
            if f.type == "checkboxes":
                attrs["required"] = False  # one `required` per box would demand every box
            self.choices = [
                (value, *rendered)
                for value, rendered in zip(layout.values, layout.render_options(attrs),
                                           strict=True)
            ]
        elif layout.kind != "paragraph":
            attrs["aria-describedby"] = describedby
            attrs["aria-invalid"] = "true" if invalid else False
            attrs["aria-required"] = needed
            if f.type == "checkbox":
                attrs["value"] = "true"
            else:
                attrs.update(_input_attrs(f))
                if layout.placeholder and f.type != "select":
                    attrs["placeholder"] = layout.placeholder
            self.attrs = attrs
            if f.type == "checkbox":
                self.keys = frozenset((False, True))
            elif f.type == "select":
                self.keys = frozenset((None, "", *layout.values))  # "": the empty option
            else:
                parts = str(layout.render_control(VALUE_MARK, attrs)).split(VALUE_MARK)
                if len(parts) == 2:
                    self.around = (parts[0], parts[1])

    def control(self, data: Any) -> Markup:
        if self.around is not None:
            value = escape("" if data is None else data)
            return Markup(f"{self.around[0]}{value}{self.around[1]}")
        if self.keys is None:
            return self.layout.render_control(data, self.attrs)
        key = data if data in self.keys else None
        found = self.controls.get(key)
        if found is None:
            found = self.controls[key] = self.layout.render_control(key, self.attrs)
        return found

    def options(self, data: Any) -> list[tuple[Markup, Markup]]:
        if self.layout.definition.type == "checkboxes":
            picked = set(data)
            return [(chosen if value in picked else control, label)
                    for value, control, chosen, label in self.choices]
        return [(chosen if value == data else control, label)
                for value, control, chosen, label in self.choices]


class FieldView:
    """One field as the step template renders it: its layout and this request's state."""

    def __init__(
        self,
        layout: FieldLayout,
        data: Any,
        *,
        visible: bool,
        required: bool,
        errors: list[str],
        counter: str | None,
    ) -> None:
        self.layout = layout
        self.definition = layout.definition
        self.id = layout.id
        self.kind = layout.kind
        self.dom_id = layout.dom_id
        self.help_id = layout.help_id
        self.error_id = layout.error_id
        self.counter_id = layout.counter_id
        self.label = layout.label
        self.help = layout.help
        self.placeholder = layout.placeholder
        self.paragraphs = layout.paragraphs
        self.data = data
        """The answer as the WTForms field of its type holds it (see ``_initial``)."""
        self.visible = visible
        self.required = required
        self.errors = errors
        self.counter = counter
        self._rendered = layout.rendered((visible, required, bool(errors)))

    def wrapper_attrs(self) -> Markup:
        """Attributes of the ``data-field`` element (a fieldset for groups)."""
        return self._rendered.wrapper_attrs

    def control(self) -> Markup:
        """The single control of a non-group field."""
        assert self.kind in ("input", "checkbox")
        return self._rendered.control(self.data)

    def options(self) -> list[tuple[Markup, Markup]]:
        """(control, label) for each option of a radio or checkbox group."""
        assert self.kind == "group"
        return self._rendered.options(self.data)


def _kind(f: FieldDefinition) -> str:
    """How the template lays a field out: paragraph, group (fieldset), checkbox or input."""
    if f.type == "paragraph":
        return "paragraph"
    if f.type in ("radio", "checkboxes"):
        return "group"
    if f.type == "checkbox":
        return "checkbox"
    return "input"


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


class StepLayout:
    """One step of one form version in one language, ready to render many times (a version is
    immutable; keep one per (version, step, language))."""

    def __init__(
        self, form: FormDefinition, step: Step, language: str, choose_label: str
    ) -> None:
        def text(value: Text) -> str:
            return localize(value, language, form.default_language)

        self.step = step
        self.fields = [FieldLayout(f, text, choose_label) for f in step.fields]

    def render(
        self,
        answers: Mapping[str, Any],
        *,
        visible: Collection[str],
        required: Collection[str],
        errors: Mapping[str, list[str]],
    ) -> list[FieldView]:
        """The fields with the current raw ``answers``."""
        views = []
        for layout in self.fields:
            f = layout.definition
            raw = answers.get(f.id)
            views.append(
                FieldView(
                    layout,
                    _initial(f, raw) if f.is_input else None,
                    visible=f.id in visible,
                    required=f.id in required,
                    errors=list(errors.get(f.id, ())),
                    counter=counter_text(f, raw) if layout.counted else None,
                )
            )
        return views
