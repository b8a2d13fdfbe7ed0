"""Form definitions: from an administrator's JSON to a checked, immutable ``FormDefinition``.

A definition is refused as a whole, with every problem listed at once (schema and semantic
errors alike), so an administrator fixes a file in one pass and nothing is ever half-loaded.
Linter warnings ride along in ``check_form`` but never stop loading.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from engine.answers import NUMBER_LIMIT, convert
from engine.availability import availability_problems
from engine.conditions import compile_condition, fields_read
from engine.evaluation import find_cycle
from engine.exceptions import DefinitionError
from engine.expressions import ExpressionError, calls, check_call, names_read, parse_expression
from engine.jsondata import structure_problems
from engine.linter import lint_form
from engine.model import NUMERIC_TYPES, Condition, Field, FormDefinition, Option, Rule, Step
from engine.patterns import pattern_problem
from engine.problems import Problem, Severity, errors_only, pointer_join
from engine.schema import schema_problems
from engine.text import to_text

__all__ = ["allowed_properties", "check_form", "load_form"]

_TYPE_PROPERTIES: Mapping[str, frozenset[str]] = {
    "text": frozenset({"min_length", "max_length", "pattern", "pattern_message", "counter",
                       "autocomplete"}),
    "textarea": frozenset({"min_length", "max_length", "counter", "autocomplete"}),
    "number": frozenset({"min", "max", "step", "autocomplete"}),
    "date": frozenset({"min", "max", "autocomplete"}),
    "select": frozenset({"options", "autocomplete"}),
    "radio": frozenset({"options"}),
    "checkboxes": frozenset({"options", "min_selected", "max_selected"}),
    "checkbox": frozenset({"consent"}),
    "paragraph": frozenset(),
    "calculated": frozenset({"expression"}),
    "group": frozenset({"repeat", "fields"}),
    "file": frozenset({"accept", "max_size", "max_files"}),
}
_KNOWN_TYPES = frozenset({*_TYPE_PROPERTIES, "tel", "url", "email"})
_COMMON = frozenset({"id", "type", "label", "help", "placeholder", "required", "default",
                     "prefill"})
_LIMITS = frozenset(
    {"prefill", "min_length", "max_length", "pattern", "pattern_message", "counter",
     "autocomplete", "min", "max", "step", "options", "min_selected", "max_selected", "consent",
     "expression", "repeat", "fields", "accept", "max_size", "max_files"}
)
_NOT_CALCULATED = frozenset({"required", "default", "placeholder"})
"""Common properties a calculated field or a group cannot have: nobody types its value (a
group's rows are asked for with ``repeat.min``)."""


def allowed_properties(kind: str) -> frozenset[str]:
    """The properties a field of type ``kind`` may have (the editor offers exactly these)."""
    if kind in ("tel", "url", "email"):
        return _COMMON | _TYPE_PROPERTIES["text"]
    if kind == "paragraph":
        return frozenset({"id", "type", "content", "label", "help"})
    if kind in ("calculated", "group"):
        return (_COMMON - _NOT_CALCULATED) | _TYPE_PROPERTIES[kind]
    if kind == "file":
        return (_COMMON - {"default", "placeholder"}) | _TYPE_PROPERTIES[kind]
    return _COMMON | _TYPE_PROPERTIES.get(kind, frozenset())


def _build_field(raw: dict[str, Any], step_id: str, inner: tuple[Field, ...] = ()) -> Field:
    kind = raw["type"]
    repeat = raw.get("repeat") or {}
    return Field(
        id=raw["id"],
        type=kind,
        step=step_id,
        label=to_text(raw.get("label")),
        help=to_text(raw.get("help")),
        placeholder=to_text(raw.get("placeholder")),
        content=to_text(raw.get("content")),
        required=bool(raw.get("required", False)),
        prefill=raw.get("prefill") is True,
        default=raw.get("default"),
        min_length=raw.get("min_length"),
        max_length=raw.get("max_length"),
        pattern=raw.get("pattern"),
        pattern_message=to_text(raw.get("pattern_message")),
        counter=bool(raw.get("counter", False)),
        consent=bool(raw.get("consent", False)),
        autocomplete=raw.get("autocomplete"),
        min=None if isinstance(raw.get("min"), dict) else raw.get("min"),
        max=None if isinstance(raw.get("max"), dict) else raw.get("max"),
        min_field=raw["min"].get("field") if isinstance(raw.get("min"), dict) else None,
        max_field=raw["max"].get("field") if isinstance(raw.get("max"), dict) else None,
        step_size=raw.get("step"),
        options=tuple(
            Option(value=o["value"], label=to_text(o.get("label"))) for o in raw.get("options", [])
        ),
        min_selected=raw.get("min_selected"),
        max_selected=raw.get("max_selected"),
        expression=raw.get("expression"),
        formula=parse_expression(raw["expression"]) if kind == "calculated" else None,
        fields=inner,
        repeat_min=int(repeat.get("min", 0)),
        repeat_max=int(repeat.get("max", 0)),
        accept=tuple(raw.get("accept", ())),
        max_size=raw.get("max_size"),
        max_files=int(raw.get("max_files", 1)),
    )


class _Checker:
    """One pass over a form's JSON that collects problems and, where sound, typed parts."""

    def __init__(self, data: dict[str, Any], stored: bool) -> None:
        self.data = data
        self.stored = stored
        """A version already stored: what later releases refuse at import (a pattern outside
        the subset) is a warning and ignored, so the version keeps working."""
        self.problems: list[Problem] = []
        self.fields: dict[str, Field] = {}
        self.steps: list[Step] = []
        self.step_ids: set[str] = set()
        self.rules: list[Rule] = []
        self.pointers: dict[str, str] = {}
        self.field_pointers: dict[str, str] = {}
        self.inner: dict[str, Field] = {}
        """The fields of repeating groups, by id (ids are unique across the whole form)."""
        self.group_of: dict[str, str] = {}
        """A repeating group's field id → the group's id."""
        self.row_rules: dict[str, list[Rule]] = {}

    def error(self, pointer: str, message: str) -> None:
        self.problems.append(Problem(pointer, message))

    def claim_id(self, item_id: Any, pointer: str) -> bool:
        if not isinstance(item_id, str):
            return False
        if item_id in self.pointers:
            self.error(
                pointer_join(pointer, "id"),
                f"id '{item_id}' is already used at {self.pointers[item_id]}/id "
                "(step and field ids must be unique across the whole form)",
            )
            return False
        self.pointers[item_id] = pointer
        return True

    def check_steps(self) -> None:
        steps = self.data.get("steps")
        if not isinstance(steps, list):
            return
        for index, step in enumerate(steps):
            pointer = pointer_join("", "steps", index)
            if not isinstance(step, dict):
                continue
            if self.claim_id(step.get("id"), pointer):
                self.step_ids.add(step["id"])
            step_fields: list[Field] = []
            raw_fields = step.get("fields")
            for f_index, raw in enumerate(raw_fields if isinstance(raw_fields, list) else []):
                built = self.check_field(raw, pointer_join(pointer, "fields", f_index),
                                         str(step.get("id")))
                if built is not None:
                    step_fields.append(built)
            if isinstance(step.get("id"), str):
                self.steps.append(Step(step["id"], to_text(step.get("title")), tuple(step_fields)))

    def check_field(
        self, raw: Any, pointer: str, step_id: str, group: str | None = None
    ) -> Field | None:
        if not isinstance(raw, dict) or not isinstance(raw.get("type"), str):
            return None
        claimed = self.claim_id(raw.get("id"), pointer)
        kind = raw["type"]
        if kind in ("group", "file") and group is not None:
            what = "another repeating group" if kind == "group" else "a file field"
            self.error(pointer_join(pointer, "type"), f"a repeating group cannot hold {what}")
            return None
        inner = self.check_group(raw, pointer, step_id) if kind == "group" else ()
        if kind not in _KNOWN_TYPES:
            return None  # the schema reports the unknown type
        limited = (_LIMITS | _NOT_CALCULATED if kind in ("calculated", "group")
                   else _LIMITS | {"default", "placeholder"} if kind == "file" else _LIMITS)
        misplaced = sorted((set(raw) & limited) - allowed_properties(kind))
        for name in misplaced:
            self.error(pointer_join(pointer, name), f"'{name}' does not apply to a {kind} field")
        self.check_options(raw.get("options"), pointer)
        self.check_limits(raw, pointer)
        if kind == "calculated" and isinstance(raw.get("expression"), str):
            try:
                parse_expression(raw["expression"])
            except ExpressionError as refused:
                self.error(pointer_join(pointer, "expression"), str(refused))
                return None
        if not claimed:
            return None
        try:
            built = _build_field(raw, step_id, inner)
        except (KeyError, TypeError, ValueError):
            return None  # the schema has already reported what is wrong with it
        if "default" in raw:
            _, error = convert(built, raw["default"])
            if error is not None:
                self.error(pointer_join(pointer, "default"),
                           f"default {raw['default']!r} is not a valid {kind} answer")
        if group is None:
            self.fields[built.id] = built
        else:
            self.inner[built.id] = built
            self.group_of[built.id] = group
        self.field_pointers[built.id] = pointer
        return built

    def check_group(self, raw: dict[str, Any], pointer: str, step_id: str) -> tuple[Field, ...]:
        repeat = raw.get("repeat")
        if isinstance(repeat, dict) and _comparable(repeat.get("min"), repeat.get("max")) and (
                repeat["min"] > repeat["max"]):
            self.error(pointer_join(pointer, "repeat", "min"), "'min' is greater than 'max'")
        raw_fields = raw.get("fields")
        inner: list[Field] = []
        for index, item in enumerate(raw_fields if isinstance(raw_fields, list) else []):
            built = self.check_field(item, pointer_join(pointer, "fields", index), step_id,
                                     group=str(raw.get("id")))
            if built is not None:
                inner.append(built)
        return tuple(inner)

    def check_bounds(self) -> None:
        """A ``min``/``max`` naming another field names one of the same kind the field can
        see (of the form, or of its own row)."""
        for f in [*self.fields.values(), *self.inner.values()]:
            group = self.group_of.get(f.id)
            for bound, other_id in (("min", f.min_field), ("max", f.max_field)):
                if other_id is None:
                    continue
                other = (self.fields if group is None else self.inner).get(other_id)
                wanted = NUMERIC_TYPES if f.type == "number" else {f.type}
                pointer = pointer_join(self.field_pointers[f.id], bound, "field")
                if other is None or self.group_of.get(other_id) != group:
                    self.error(pointer, f"unknown field '{other_id}'"
                               + ("" if group is None else " in this row"))
                elif other.id == f.id:
                    self.error(pointer, "a field cannot be bounded by itself")
                elif other.type not in wanted:
                    self.error(pointer, f"'{other_id}' is a {other.type} field: a {f.type} "
                               f"field's {bound} must be a {' or '.join(sorted(wanted))} field")

    def check_calculations(self) -> None:
        """Every name a calculation reads is a number (or calculated) field it can see: one of
        the form (a repeating group's through sum/min/max/count), or of its own row."""
        for f in [*self.fields.values(), *self.inner.values()]:
            if f.formula is None:
                continue
            group = self.group_of.get(f.id)
            scope = self.fields if group is None else {
                i.id: i for i in self.inner.values() if self.group_of[i.id] == group}
            pointer = pointer_join(self.field_pointers[f.id], "expression")
            for problem in calculation_problems(f, scope):
                self.error(pointer, problem)

    def check_options(self, options: Any, pointer: str) -> None:
        if not isinstance(options, list):
            return
        seen: dict[str, int] = {}
        for index, option in enumerate(options):
            value = option.get("value") if isinstance(option, dict) else None
            if not isinstance(value, str):
                continue
            if value in seen:
                self.error(pointer_join(pointer, "options", index),
                           f"option value '{value}' is already used by option {seen[value]}")
            else:
                seen[value] = index

    def check_limits(self, raw: dict[str, Any], pointer: str) -> None:
        for low, high in (("min_length", "max_length"), ("min", "max"),
                          ("min_selected", "max_selected")):
            a: Any = raw.get(low)
            b: Any = raw.get(high)
            if _comparable(a, b) and a > b:
                self.error(pointer_join(pointer, low), f"'{low}' is greater than '{high}'")
        for bound in ("min", "max"):
            value = raw.get(bound)
            if value is None or isinstance(value, dict):  # another field's answer: see bounds
                continue
            if raw["type"] == "date" and not (isinstance(value, str) and
                                              convert(_DATE_PROBE, value)[1] is None):
                self.error(pointer_join(pointer, bound), "must be an ISO date (YYYY-MM-DD)")
            if raw["type"] == "number" and (isinstance(value, bool) or
                                            not isinstance(value, int | float)):
                self.error(pointer_join(pointer, bound), "must be a number")
        for bound in ("min", "max", "step"):
            value = raw.get(bound)
            if (raw["type"] == "number" and isinstance(value, int | float)
                    and not abs(value) < NUMBER_LIMIT):
                self.error(pointer_join(pointer, bound),
                           f"must be less than {NUMBER_LIMIT:.0e} in absolute value")
        pattern = raw.get("pattern")
        if isinstance(pattern, str):
            problem = pattern_problem(pattern)
            if problem is not None:
                severity: Severity = "warning" if self.stored else "error"
                ignored = "; this stored version ignores the pattern" if self.stored else ""
                self.problems.append(
                    Problem(pointer_join(pointer, "pattern"), problem + ignored, severity))

    def attach_row_rules(self) -> tuple[Step, ...]:
        """The steps with each repeating group carrying the rules that apply to its rows."""
        return tuple(
            Step(step.id, step.title, tuple(
                replace(f, row_rules=tuple(self.row_rules.get(f.id, ()))) if f.is_group else f
                for f in step.fields))
            for step in self.steps
        )

    def check_applicant(self) -> None:
        applicant = self.data.get("applicant")
        if not isinstance(applicant, dict):
            return
        for role, wanted in (("email", ("email",)), ("name", None)):
            field_id = applicant.get(role)
            if not isinstance(field_id, str):
                continue
            f = self.fields.get(field_id)
            pointer = pointer_join("", "applicant", role)
            if f is None or not f.is_input or f.is_calculated or f.is_group:
                self.error(pointer, f"'{field_id}' is not an input field of this form")
            elif wanted and f.type not in wanted:
                self.error(pointer, f"'{field_id}' must be an email field (it is {f.type})")

    def check_rules(self) -> None:
        rules = self.data.get("rules", [])
        if not isinstance(rules, list):
            return
        for index, raw in enumerate(rules):
            if not isinstance(raw, dict):
                continue
            pointer = pointer_join("", "rules", index)
            condition, problems = compile_condition(raw.get("when"), {**self.fields, **self.inner},
                                                    pointer_join(pointer, "when"))
            self.problems += problems
            group = self.row_group(condition, pointer) if condition is not None else None
            if group == "":
                continue
            targets_ok = True
            for effect in ("show", "hide", "require"):
                targets = raw.get(effect, [])
                if not isinstance(targets, list):  # the schema reports it
                    targets_ok = False
                    continue
                for t_index, target in enumerate(targets):
                    targets_ok &= self.check_target(effect, target,
                                                    pointer_join(pointer, effect, t_index), group)
            if condition is not None and targets_ok and "when" in raw:
                (self.rules if group is None else self.row_rules.setdefault(group, [])).append(Rule(
                    when=condition,
                    show=tuple(raw.get("show", [])),
                    hide=tuple(raw.get("hide", [])),
                    require=tuple(raw.get("require", [])),
                ))

    def row_group(self, condition: Condition, pointer: str) -> str | None:
        """The group whose rows a rule applies to (it reads that group's fields), ``None`` for a
        rule of the whole form, ``""`` when it mixes both (an error, reported here)."""
        reads = fields_read(condition)
        groups = {self.group_of[r] for r in reads if r in self.group_of}
        if not groups:
            return None
        if len(groups) > 1 or len(groups) < len({self.group_of.get(r) for r in reads}):
            self.error(pointer_join(pointer, "when"), "a rule that reads a field of a repeating "
                       "group reads only fields of that group (it applies to each row)")
            return ""
        return groups.pop()

    def check_target(self, effect: str, target: Any, pointer: str, group: str | None) -> bool:
        if not isinstance(target, str):
            return False
        if group is not None or target in self.inner:
            if self.group_of.get(target) == group and group is not None:
                return True
            if group is None:
                self.error(pointer, f"'{target}' is a field of the repeating group "
                           f"'{self.group_of[target]}': only a rule reading that group's fields "
                           "can target it")
            else:
                self.error(pointer, f"a rule reading fields of the repeating group '{group}' can "
                           "only target that group's fields, in the same row")
            return False
        if target in self.step_ids:
            if effect == "require":
                self.error(pointer, f"'{target}' is a step: only fields can be required")
                return False
            return True
        f = self.fields.get(target)
        if f is None:
            if target not in self.pointers:  # a broken field reported elsewhere
                self.error(pointer, f"unknown field or step '{target}'")
            return False
        if effect == "require" and not f.is_input:
            self.error(pointer, f"'{target}' is a paragraph: it cannot be required")
            return False
        if effect == "require" and f.is_calculated:
            self.error(pointer, f"'{target}' is calculated: it cannot be required")
            return False
        if effect == "require" and f.is_group:
            self.error(pointer, f"'{target}' is a repeating group: ask for rows with "
                       "'repeat.min' instead")
            return False
        return True


def calculation_problems(f: Field, fields: Mapping[str, Field]) -> list[str]:
    """What is wrong with a calculated field's names and calls among ``fields``."""
    assert f.formula is not None
    problems: list[str] = []
    counted: set[int] = set()
    spread: set[int] = set()  # a group's field may be read as an argument of sum/min/max only
    for call in calls(f.formula):
        problem = check_call(call)
        if problem is not None:
            problems.append(problem)
        if call.function == "count" and call.arguments:
            counted.add(id(call.arguments[0]))
        if call.function in ("sum", "min", "max"):
            spread.update(id(argument) for argument in call.arguments)
    for name in names_read(f.formula):
        if id(name) in counted or name.group is not None:
            group_id = name.field if name.group is None else name.group
            group = fields.get(group_id)
            if group is None or not group.is_group:
                problems.append(f"'{group_id}' is not a repeating group of this form")
                continue
            if name.group is None:
                continue
            if id(name) not in spread:
                problems.append(f"'{name.group}.{name.field}' can only be read by sum, min or "
                                "max")
                continue
            member = next((i for i in group.fields if i.id == name.field), None)
            if member is None or member.type not in NUMERIC_TYPES:
                problems.append(f"'{name.group}.{name.field}' is not a number field of the "
                                f"repeating group '{name.group}'")
            continue
        target = fields.get(name.field)
        if target is not None and target.is_group:
            problems.append(f"'{name.field}' is a repeating group: use sum({name.field}.field) "
                            f"or count({name.field})")
            continue
        if target is None:
            problems.append(f"unknown field '{name.field}'")
        elif target.id == f.id:
            problems.append(f"'{f.id}' cannot be calculated from itself")
        elif target.type not in NUMERIC_TYPES:
            problems.append(f"'{name.field}' is a {target.type} field: calculations read "
                            "number and calculated fields only")
    return list(dict.fromkeys(problems))


def _comparable(a: Any, b: Any) -> bool:
    """Both numbers (not booleans) or both strings: bounds that can be ordered."""
    if isinstance(a, str) and isinstance(b, str):
        return True
    return all(isinstance(v, int | float) and not isinstance(v, bool) for v in (a, b))


_DATE_PROBE = Field(id="probe", type="date", step="probe")


def _analyse(data: Any, stored: bool) -> tuple[list[Problem], FormDefinition | None]:
    if not isinstance(data, dict):
        return [Problem("", "a form definition must be a JSON object")], None
    problems = structure_problems(data)
    if problems:
        return problems, None
    problems = schema_problems("form", data) + availability_problems(data)
    checker = _Checker(data, stored)
    checker.check_steps()
    checker.check_calculations()
    checker.check_bounds()
    checker.check_applicant()
    checker.check_rules()
    problems += checker.problems
    cycle = find_cycle(checker.steps, checker.rules)
    if cycle is not None:
        problems.append(cycle)
    steps = checker.attach_row_rules()
    for group in (f for step in steps for f in step.fields if f.is_group):
        cycle = find_cycle((Step(group.id, {}, group.fields),), group.row_rules)
        if cycle is not None:
            problems.append(cycle)
    if errors_only(problems):
        return problems, None
    applicant = data.get("applicant", {})
    form = FormDefinition(
        id=data["id"],
        title=to_text(data["title"]),
        languages=tuple(data["languages"]),
        steps=steps,
        rules=tuple(checker.rules),
        workflow=data.get("workflow", "review"),
        description=to_text(data.get("description")),
        confirmation=to_text(data.get("confirmation")),
        applicant_email=applicant.get("email"),
        applicant_name=applicant.get("name"),
        reference_prefix=data.get("reference_prefix") or data["id"][0].upper(),
        privacy_notice=to_text(data.get("privacy_notice")),
        retention_days=data.get("retention_days"),
        source=data,
    )
    return problems + lint_form(form, checker.pointers), form


def check_form(data: Any, *, stored: bool = False) -> list[Problem]:
    """Every error and linter warning of a form definition (parsed JSON); never raises.

    ``stored``: ``data`` is a version already in the database. What the engine has refused
    at import only since it was stored (a ``pattern`` outside the allowed subset) is then a
    warning, and the loaded form ignores it.
    """
    return _analyse(data, stored)[0]


def load_form(data: Any, *, stored: bool = False) -> FormDefinition:
    """The checked, immutable form; ``DefinitionError`` lists every error when refused.
    ``stored`` as for :func:`check_form`."""
    problems, form = _analyse(data, stored)
    if form is None:
        raise DefinitionError(errors_only(problems))
    return form
