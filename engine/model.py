"""Loaded definitions as immutable typed objects.

Everything outside ``engine.definitions``/``engine.workflows`` works with these, never with raw
JSON dicts: a definition that reached this shape has passed every check, so nobody downstream
re-validates it. ``source`` keeps the exact JSON the administrator wrote, for export and hashing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from engine.expressions import Expression
from engine.text import Text

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "INPUT_TYPES",
    "NUMERIC_TYPES",
    "TEXT_TYPES",
    "AllOf",
    "AnyOf",
    "Condition",
    "Field",
    "FieldCondition",
    "FormDefinition",
    "Not",
    "Notification",
    "Option",
    "Rule",
    "State",
    "Step",
    "Template",
    "Transition",
    "WorkflowDefinition",
]

FieldType = Literal[
    "text", "tel", "url", "email", "textarea", "number", "date",
    "select", "radio", "checkboxes", "checkbox", "paragraph", "calculated", "group", "file",
]
TEXT_TYPES: frozenset[str] = frozenset({"text", "tel", "url", "email", "textarea"})

DEFAULT_MAX_LENGTH: Mapping[str, int] = MappingProxyType({
    "text": 1000, "tel": 1000, "url": 1000, "email": 1000, "textarea": 20_000,
})
"""The length cap of a text field that declares no ``max_length`` (docs/definitions.md): an
answer is a name, an address or a few pages of prose, never a megabyte pasted by accident or
on purpose. ``formflow-rules.js`` holds the same numbers."""
CHOICE_TYPES: frozenset[str] = frozenset({"select", "radio"})
INPUT_TYPES: frozenset[str] = frozenset(
    {"text", "tel", "url", "email", "textarea", "number", "date",
     "select", "radio", "checkboxes", "checkbox"}
)

NUMERIC_TYPES: frozenset[str] = frozenset({"number", "calculated"})
"""Types whose answer is a number: what calculations and ordering operators read."""

Answer = str | int | float | bool | list[str] | list[dict[str, Any]] | None
"""A typed answer as conditions see it and storage keeps it (dates as ISO strings)."""


@dataclass(frozen=True, slots=True)
class Option:
    value: str
    label: Text


@dataclass(frozen=True, slots=True)
class Field:
    id: str
    type: FieldType
    step: str
    label: Text = field(default_factory=dict)
    help: Text = field(default_factory=dict)
    placeholder: Text = field(default_factory=dict)
    content: Text = field(default_factory=dict)
    required: bool = False
    default: Any = None
    prefill: bool = False
    """``/f/<form>?<id>=<value>`` may fill it (web/applicant/prefill.py)."""
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_message: Text = field(default_factory=dict)
    counter: bool = False
    consent: bool = False
    """A checkbox whose ticking is a consent: the submission keeps a record of it."""
    autocomplete: str | None = None
    min: int | float | str | None = None
    max: int | float | str | None = None
    step_size: int | float | None = None
    options: tuple[Option, ...] = ()
    min_selected: int | None = None
    max_selected: int | None = None
    expression: str | None = None
    """A calculated field's expression as written."""
    formula: Expression | None = field(default=None, compare=False, repr=False)
    """A calculated field's expression parsed (``engine.expressions``)."""
    fields: tuple[Field, ...] = ()
    """A repeating group's fields, filled once per row."""
    row_rules: tuple[Rule, ...] = ()
    """A repeating group's rules that read its own fields: applied to each row on its own."""
    repeat_min: int = 0
    repeat_max: int = 0
    min_field: str | None = None
    """``min`` given as ``{"field": id}``: the answer must not be below that field's."""
    max_field: str | None = None
    accept: tuple[str, ...] = ()
    """A file field's allowed types (MIME types its content must show); empty: any known."""
    max_size: int | None = None
    """A file field's largest file, in bytes."""
    max_files: int = 1

    option_set: frozenset[str] = field(init=False, repr=False, compare=False)
    """The option values as a set, for answer checks on the hot path."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "option_set", frozenset(o.value for o in self.options))

    @property
    def is_input(self) -> bool:
        """Whether the field has an answer (every type but a paragraph): a calculated field's
        is computed, not typed, yet stored and shown like any other."""
        return self.type != "paragraph"

    @property
    def length_limit(self) -> int | None:
        """The longest answer a text field takes: its ``max_length``, else the default cap."""
        if self.max_length is not None:
            return self.max_length
        return DEFAULT_MAX_LENGTH.get(self.type)

    @property
    def is_calculated(self) -> bool:
        return self.type == "calculated"

    @property
    def is_group(self) -> bool:
        return self.type == "group"

    @property
    def is_file(self) -> bool:
        return self.type == "file"

    def option_values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.options)


@dataclass(frozen=True, slots=True)
class Step:
    id: str
    title: Text
    fields: tuple[Field, ...]


@dataclass(frozen=True, slots=True)
class FieldCondition:
    """``{"field", "op", "value"}``; ``value`` is already converted to the field's type."""

    field: str
    op: str
    value: Any = None


@dataclass(frozen=True, slots=True)
class AllOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Condition


Condition = FieldCondition | AllOf | AnyOf | Not


@dataclass(frozen=True, slots=True)
class Rule:
    when: Condition
    show: tuple[str, ...] = ()
    hide: tuple[str, ...] = ()
    require: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FormDefinition:
    id: str
    title: Text
    languages: tuple[str, ...]
    steps: tuple[Step, ...]
    rules: tuple[Rule, ...]
    workflow: str = "review"
    description: Text = field(default_factory=dict)
    confirmation: Text = field(default_factory=dict)
    applicant_email: str | None = None
    applicant_name: str | None = None
    reference_prefix: str = ""
    """Prefix of human-readable references (``M`` in ``M-2026-00042``)."""
    privacy_notice: Text = field(default_factory=dict)
    """Shown on the first step and the review page."""
    retention_days: int | None = None
    """Days after a submission last entered a final state until its personal data is
    erased; None: the deployment's default (``FORMFLOW_RETENTION_DAYS``) or keep."""
    source: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def default_language(self) -> str:
        return self.languages[0]

    def fields(self) -> tuple[Field, ...]:
        return tuple(f for s in self.steps for f in s.fields)

    def field_map(self) -> dict[str, Field]:
        return {f.id: f for s in self.steps for f in s.fields}


@dataclass(frozen=True, slots=True)
class State:
    id: str
    label: Text
    final: bool = False
    due_days: int | None = None
    """Calendar days a submission may stay in this state before the inbox marks it overdue."""


@dataclass(frozen=True, slots=True)
class Transition:
    id: str
    sources: tuple[str, ...]
    """The states it starts from; ``"*"`` in JSON is expanded to every non-final state."""
    to: str
    roles: tuple[str, ...]
    label: Text = field(default_factory=dict)
    comment: Literal["required", "optional", "none"] = "optional"
    when: Mapping[str, Any] | None = None
    """The guard as written (raw JSON): bound to a form's field types at publish time."""


@dataclass(frozen=True, slots=True)
class Notification:
    on: str
    to: str | None = None
    template: str | None = None
    webhook: str | None = None
    secret_env: str | None = None

    @property
    def channel(self) -> Literal["mail", "webhook"]:
        return "webhook" if self.webhook else "mail"


@dataclass(frozen=True, slots=True)
class Template:
    subject: Text
    body: Text
    html: Text = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class WorkflowDefinition:
    id: str
    title: Text
    initial: str
    states: tuple[State, ...]
    transitions: tuple[Transition, ...]
    notifications: tuple[Notification, ...] = ()
    templates: Mapping[str, Template] = field(default_factory=dict)
    source: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def state(self, state_id: str) -> State:
        return next(s for s in self.states if s.id == state_id)

    def transition(self, transition_id: str) -> Transition | None:
        return next((t for t in self.transitions if t.id == transition_id), None)
