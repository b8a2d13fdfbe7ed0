"""The engine's check messages in the editor's language: one catalogue entry per message.

The engine words every problem of a definition in English (the CLI and the raw JSON view show
it so). Each entry below is the *template* of one engine message — its text as the engine's
source writes it, with ``{name}`` where the engine puts a value — and the msgid of its
translation. ``tests/admin/test_problem_messages.py`` reads the engine's source and fails when
a message has no entry here, so a new check cannot reach the editor untranslated.

Values keep their meaning: a quoted value (``'x'``, ``"x"``) is quoted the page language's way,
a value named ``other`` is a JSON pointer and is named by label, one named ``problem`` is an
inner engine message and is translated in turn, and a few fixed English words the engine puts
into messages (JSON types, the schema's descriptions) are translated through :data:`WORDS`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from web.admin.metadata import N_
from web.admin.text import gettext as _

__all__ = ["MESSAGES", "WORDS", "Template", "template_for", "translate_message"]


_TOKEN = re.compile(r"""\{\{|\}\}|(['"]?)\{(\w+)\}\1""")


@dataclass(frozen=True, slots=True)
class Template:
    """An engine message: ``{name}`` where a value goes, ``{{``/``}}`` for a literal brace."""

    text: str
    msgid: str

    def _parts(self) -> list[tuple[str, str | None, str]]:
        """(literal, value name, quote) pieces in order."""
        parts: list[tuple[str, str | None, str]] = []
        position = 0
        for token in _TOKEN.finditer(self.text):
            literal = self.text[position:token.start()]
            if token.group(2) is None:
                parts.append((literal + token.group(0)[0], None, ""))
            else:
                parts.append((literal, token.group(2), token.group(1)))
            position = token.end()
        parts.append((self.text[position:], None, ""))
        return parts

    @property
    def shape(self) -> str:
        """The message with every value as ``{}``: how the engine's source reads."""
        return "".join(literal + (f"{quote}{{}}{quote}" if name else "")
                       for literal, name, quote in self._parts())

    @property
    def names(self) -> list[str]:
        return [name for _literal, name, _quote in self._parts() if name]

    def compiled(self) -> re.Pattern[str]:
        """A value the engine quotes itself (``'{op}'``) is captured with its quotes."""
        out = ""
        for literal, name, quote in self._parts():
            out += re.escape(literal)
            if name:
                out += f"(?P<{name}>{re.escape(quote)}.+?{re.escape(quote)})"
        return re.compile(f"^{out}$", re.DOTALL)


MESSAGES: tuple[Template, ...] = tuple(Template(text, msgid) for text, msgid in (
    # engine/schema.py: the JSON Schema's findings, reworded
    ("must not be empty", N_("must not be empty")),
    ("missing required property {name}", N_("%(name)s is missing")),
    ("unknown property {name} (allowed: {allowed})",
     N_("unknown property %(name)s (allowed: %(allowed)s)")),
    ("{value} is not allowed as a name here: expected {description}",
     N_("%(value)s is not allowed as a name here: expected %(description)s")),
    ("{value} is not allowed as a name here", N_("%(value)s is not allowed as a name here")),
    ("{prop} needs {dep} as well", N_("%(prop)s needs %(dep)s as well")),
    ("expected {wanted}, got {got} ({description})",
     N_("expected %(wanted)s, got %(got)s (%(description)s)")),
    ("expected {wanted}, got {got}", N_("expected %(wanted)s, got %(got)s")),
    ("{value} is not valid here: expected {description}",
     N_("%(value)s is not valid here: expected %(description)s")),
    ("{value} is not valid here", N_("%(value)s is not valid here")),
    ("{value} is not one of {options}", N_("%(value)s is not one of %(options)s")),
    ("lists the same entry twice", N_("lists the same entry twice")),
    ("has {keys}; only one of them is allowed: it must be {description}",
     N_("has %(keys)s; only one of them is allowed: it must be %(description)s")),
    ("has {keys}; only one of them is allowed", N_("has %(keys)s; only one of them is allowed")),
    ("needs one of {keys}: it must be {description}",
     N_("needs one of %(keys)s: it must be %(description)s")),
    ("needs one of {keys}", N_("needs one of %(keys)s")),
    ("must be at least {limit}", N_("must be at least %(limit)s")),
    ("must be at most {limit}", N_("must be at most %(limit)s")),
    ("must be greater than {limit}", N_("must be greater than %(limit)s")),
    ("must be at least {limit} characters long", N_("must be at least %(limit)s characters long")),
    ("must be at most {limit} characters long", N_("must be at most %(limit)s characters long")),
    ("must list at least {limit} entries", N_("must list at least %(limit)s entries")),
    ("must list at most {limit} entries", N_("must list at most %(limit)s entries")),
    ("must be {value}", N_("must be %(value)s")),
    # engine/jsondata.py: text and numbers the definition may not hold
    ("must be a finite number (not NaN or Infinity)",
     N_("must be a finite number (not NaN or Infinity)")),
    ("not a JSON file: {detail}", N_("not a JSON file: %(detail)s")),
    ("nested more than {depth} levels deep", N_("nested more than %(depth)s levels deep")),
    ("a property name {problem}", N_("a property name %(problem)s")),
    ("contains a control character (U+{code}) at position {position}: text may not hold "
     "control characters other than tab and line breaks, nor invalid Unicode",
     N_("contains a control character (U+%(code)s) at position %(position)s: text may not hold "
        "control characters other than tab and line breaks, nor invalid Unicode")),
    ("contains a lone surrogate (U+{code}) at position {position}: text may not hold "
     "control characters other than tab and line breaks, nor invalid Unicode",
     N_("contains a lone surrogate (U+%(code)s) at position %(position)s: text may not hold "
        "control characters other than tab and line breaks, nor invalid Unicode")),
    # engine/definitions.py: forms
    ("a form definition must be a JSON object", N_("a form definition must be a JSON object")),
    ("id '{id}' is already used at {other}/id (step and field ids must be unique across the "
     "whole form)", N_("the id %(id)s is used twice (also: %(other)s)")),
    ("'{name}' does not apply to a {type} field",
     N_("%(name)s does not apply to a field of type %(type)s")),
    ("default {value} is not a valid {type} answer",
     N_("the default %(value)s is not a valid answer for a field of type %(type)s")),
    ("option value '{value}' is already used by option {index}",
     N_("the option value %(value)s is used twice")),
    ("'{low}' is greater than '{high}'", N_("%(low)s is greater than %(high)s")),
    ("must be an ISO date (YYYY-MM-DD)", N_("must be an ISO date (YYYY-MM-DD)")),
    ("must be a number", N_("must be a number")),
    ("must be less than {limit} in absolute value",
     N_("must be less than %(limit)s in absolute value")),
    ("{problem}; this stored version ignores the pattern",
     N_("%(problem)s; this stored version ignores the pattern")),
    ("'{field}' is not an input field of this form",
     N_("%(field)s is not an input field of this form")),
    ("'{field}' must be an email field (it is {type})",
     N_("%(field)s must be an email field (it is of type %(type)s)")),
    ("'{id}' is a step: only fields can be required",
     N_("%(id)s is a step: only fields can be required")),
    ("unknown field or step '{id}'", N_("unknown field or step %(id)s")),
    ("'{id}' is a paragraph: it cannot be required",
     N_("%(id)s is a paragraph: it cannot be required")),
    ("cannot read JSON: {detail}", N_("cannot read JSON: %(detail)s")),
    ("'min' is greater than 'max'",
     N_("'min' is greater than 'max'")),
    ("'{id}' is a field of the repeating group '{group}': only a rule reading that group's "
     "fields can target it",
     N_("%(id)s is a field of the repeating group %(group)s: only a rule reading that group's "
        "fields can target it")),
    ("'{id}' is a repeating group: ask for rows with 'repeat.min' instead",
     N_("%(id)s is a repeating group: ask for rows with 'repeat.min' instead")),
    ("'{id}' is a {type} field: a {own_type} field's {bound} must be a {wanted} field",
     N_("%(id)s is a %(type)s field: a %(own_type)s field's %(bound)s must be a %(wanted)s field")),
    ("'{id}' is calculated: it cannot be required",
     N_("%(id)s is calculated: it cannot be required")),
    ("a field cannot be bounded by itself",
     N_("a field cannot be bounded by itself")),
    ("a repeating group cannot hold a file field",
     N_("a repeating group cannot hold a file field")),
    ("a repeating group cannot hold another repeating group",
     N_("a repeating group cannot hold another repeating group")),
    ("a rule reading fields of the repeating group '{group}' can only target that group's "
     "fields, in the same row",
     N_("a rule reading fields of the repeating group %(group)s can only target that group's "
        "fields, in the same row")),
    ("a rule that reads a field of a repeating group reads only fields of that group (it "
     "applies to each row)",
     N_("a rule that reads a field of a repeating group reads only fields of that group (it "
        "applies to each row)")),
    ("unknown field '{id}' in this row",
     N_("unknown field %(id)s in this row")),
    # engine/patterns.py
    ("not a valid pattern: longer than {limit} characters",
     N_("not a valid pattern: longer than %(limit)s characters")),
    ("not a valid pattern: {problem} (at position {position})",
     N_("not a valid pattern: %(problem)s (at position %(position)s)")),
    ("not a valid pattern: {detail}", N_("not a valid pattern: %(detail)s")),
    ("unbalanced ')'", N_("unbalanced ')'")),
    ("missing ')'", N_("missing ')'")),
    ("missing ']'", N_("missing ']'")),
    ("lookahead and lookbehind are not allowed", N_("lookahead and lookbehind are not allowed")),
    ("named groups are not allowed: use (…) or (?:…)",
     N_("named groups are not allowed: use (…) or (?:…)")),
    ("only (…) and (?:…) groups are allowed (no flags or other (?…) forms)",
     N_("only (…) and (?:…) groups are allowed (no flags or other (?…) forms)")),
    ("nothing before {char} to repeat (write \\{bare} for the character itself)",
     N_("nothing before %(char)s to repeat (write \\%(bare)s for the character itself)")),
    ("a lone {char}: write \\{bare} for the character itself",
     N_("a lone %(char)s: write \\%(bare)s for the character itself")),
    ("'{{' must start a repetition such as {{2}}, {{2,}} or {{2,5}} (write \\{{ for the "
     "character itself)", N_("'{' must start a repetition such as {2}, {2,} or {2,5} (write \\{ "
                             "for the character itself)")),
    ("a repetition may count to at most {limit}",
     N_("a repetition may count to at most %(limit)s")),
    ("{{{body}}}: the first number is greater than the second",
     N_("{%(body)s}: the first number is greater than the second")),
    ("two repetitions in a row: put the first in a group (…)",
     N_("two repetitions in a row: put the first in a group (…)")),
    ("the pattern ends with a lone '\\'", N_("the pattern ends with a lone '\\'")),
    ("\\{letter} needs one of the categories {allowed} in braces, e.g. \\p{{L}}",
     N_("\\%(letter)s needs one of the categories %(allowed)s in braces, e.g. \\p{L}")),
    ("\\{letter} is not allowed (it means different things in the browser and on the server): "
     "write {instead}", N_("\\%(letter)s is not allowed (it means different things in the "
                           "browser and on the server): write %(instead)s")),
    ("\\{letter} (word boundary) is not allowed",
     N_("\\%(letter)s (word boundary) is not allowed")),
    ("backreferences are not allowed", N_("backreferences are not allowed")),
    ("'-' needs no '\\' outside a character class",
     N_("'-' needs no '\\' outside a character class")),
    ("\\{letter} is not allowed (escape only special characters, or use \\n, \\t, \\r, "
     "\\p{{…}})", N_("\\%(letter)s is not allowed (escape only special characters, or use "
                      "\\n, \\t, \\r, \\p{…})")),
    ("an empty class '[]' (write \\] for the character)",
     N_("an empty class '[]' (write \\] for the character)")),
    ("write \\[ for '[' inside a class", N_("write \\[ for '[' inside a class")),
    ("a range needs a single character on each side (write \\- for the character itself)",
     N_("a range needs a single character on each side (write \\- for the character itself)")),
    ("a range cannot end with a category", N_("a range cannot end with a category")),
    ("write \\- for '-' before the end of a class",
     N_("write \\- for '-' before the end of a class")),
    ("the range {low}-{high} is out of order", N_("the range %(low)s-%(high)s is out of order")),
    # engine/conditions.py: rules and guards
    ("a condition must be an object", N_("a condition must be an object")),
    ("a condition has exactly one of all, any, not",
     N_("a condition has exactly one of all, any, not")),
    ("conditions may nest at most {depth} levels deep",
     N_("conditions may nest at most %(depth)s levels deep")),
    ("'{key}' needs a list", N_("%(key)s needs a list")),
    ("a condition needs 'field' and 'op' (or all/any/not)",
     N_("a condition needs 'field' and 'op' (or all/any/not)")),
    ("unknown field '{field}'", N_("unknown field %(field)s")),
    ("'{field}' is a paragraph: it has no answer",
     N_("%(field)s is a paragraph: it has no answer")),
    ("unknown operator {op}; use one of {known}",
     N_("unknown operator %(op)s; use one of %(known)s")),
    ("operator '{op}' does not fit field '{field}' of type {type} (it fits: {fits})",
     N_("operator %(op)s does not fit field %(field)s of type %(type)s (it fits: %(fits)s)")),
    ("operator '{op}' takes no value", N_("operator %(op)s takes no value")),
    ("operator '{op}' needs a list of values", N_("operator %(op)s needs a list of values")),
    ("operator '{op}' needs a value", N_("operator %(op)s needs a value")),
    ("operator '{op}' needs a text value", N_("operator %(op)s needs a text value")),
    ("field '{field}' is a checkbox: compare it with true or false",
     N_("field %(field)s is a checkbox: compare it with true or false")),
    ("{value} is not an option of field '{field}' ({options})",
     N_("%(value)s is not an option of field %(field)s (%(options)s)")),
    ("{value} cannot be compared with field '{field}' of type {type}",
     N_("%(value)s cannot be compared with field %(field)s of type %(type)s")),
    # engine/evaluation.py and engine/linter.py
    ("rules depend on each other in a cycle: {cycle} (a field's visibility cannot depend on "
     "itself)", N_("rules depend on each other in a cycle: %(cycle)s (a field's visibility "
                   "cannot depend on itself)")),
    ("reads '{read}' on step {read_step}, after its target '{target}' on step {target_step}: "
     "applicants answer it later",
     N_("reads %(read)s on step %(read_step)s, after its target %(target)s on step "
        "%(target_step)s: applicants answer it later")),
    ("step '{id}' can never be visible", N_("can never be visible")),
    ("step '{id}' has no field that can ever be visible",
     N_("has no field that can ever be visible")),
    ("field '{id}' can never be visible: no answers make its rules show it",
     N_("can never be visible")),
    ("this condition can never hold ({why}): the rule never applies",
     N_("this condition can never hold (%(why)s): the rule never applies")),
    ("its targets ({targets}) can never be visible: the rule has no effect",
     N_("its targets (%(targets)s) can never be visible: the rule has no effect")),
    ("empty in {languages}, a language the form lists: applicants reading it see another "
     "language's text", N_("empty in %(languages)s, a language the form lists")),
    # engine/workflows.py and engine/templating.py
    ("{state} is a final state: nothing is due in it",
     N_("%(state)s is a final state: nothing is due in it")),
    ("{state} is not a state (states: {states})",
     N_("%(state)s is not a state (states: %(states)s)")),
    ("{state} is not a state (use a state id or \"*\")",
     N_("%(state)s is not a state (use a state id or \"*\")")),
    ("{state} is not a state", N_("%(state)s is not a state")),
    ("{state} is a final state: no transition may start from it",
     N_("%(state)s is a final state: no transition may start from it")),
    ("transition {id} goes from {state} back to itself: firing it changes nothing but the "
     "history", N_("goes back to the state it starts from")),
    ("state {state} cannot be reached from the initial state {initial}",
     N_("state %(state)s cannot be reached from the initial state %(initial)s")),
    ("no final state can be reached from state {state}: submissions would stay open forever",
     N_("no final state can be reached from state %(state)s: submissions would stay open "
        "forever")),
    ("duplicate {kind} id {id} (first used at {other})",
     N_("the id %(id)s is used twice (also: %(other)s)")),
    ("{name} must start with {prefix} (e.g. {example}SECRET): only such variables may hold "
     "webhook secrets", N_("%(name)s must start with %(prefix)s (e.g. %(example)sSECRET): only "
                           "such variables may hold webhook secrets")),
    ("unknown template {name} (templates: {known})",
     N_("unknown template %(name)s (templates: %(known)s)")),
    ("template {name} is not used by any notification",
     N_("template %(name)s is not used by any notification")),
    ("no active staff account has the role(s) {roles}: nobody may fire transition {id}",
     N_("nobody may fire it: no active staff account has the role(s) %(roles)s")),
    ("template syntax error on line {line}: {detail}",
     N_("template syntax error on line %(line)s: %(detail)s")),
    # engine/availability.py: a form's window, capacity and waiting list
    ("must be a local date and time such as 2027-05-01T09:00 (no time zone: FORMFLOW_TIMEZONE "
     "applies)", N_("must be a local date and time such as 2027-05-01T09:00 (no time zone: "
                    "FORMFLOW_TIMEZONE applies)")),
    ("must be later than opens_at", N_("must be later than opens_at")),
    ("a waiting list needs a capacity", N_("a waiting list needs a capacity")),
    ("form {form} keeps a waiting list: name its state in waitlist_state",
     N_("form %(form)s keeps a waiting list: name its state in waitlist_state")),
    ("{state} is a final state: a waiting list keeps submissions open",
     N_("%(state)s is a final state: a waiting list keeps submissions open")),
    # engine/services: a form and its workflow checked together
    ("workflow {workflow} is not published: import and publish it first",
     N_("workflow %(workflow)s is not published: import and publish it first")),
    ("workflow {workflow} is not published: publish it first",
     N_("workflow %(workflow)s is not published: publish it first")),
    ("workflow {workflow} is not published", N_("workflow %(workflow)s is not published")),
    ("workflow {workflow}: {problem}", N_("workflow %(workflow)s: %(problem)s")),
    ("{problem} (form {form})", N_("%(problem)s (form %(form)s)")),
    ("the id must stay {id}; to make a new definition, create or import it",
     N_("the id must stay %(id)s; to make a new definition, create or import it")),
))

# Fixed English words the engine puts into its messages as values (``_JSON_TYPES`` of
# engine/schema.py, the descriptions of engine/schemas/*.json, a few more).
WORDS: dict[str, str] = {
    "a string": N_("a text"),
    "an object": N_("an object"),
    "a list": N_("a list"),
    "true or false": N_("true or false"),
    "a whole number": N_("a whole number"),
    "a number": N_("a number"),
    "null": N_("null"),
    "none defined": N_("none defined"),
    "'applicant', 'role:<name>' or an e-mail address":
        N_("'applicant', 'role:<name>' or an e-mail address"),
    "a condition over the answers: {\"field\", \"op\", \"value\"}, {\"all\": […]}, {\"any\": "
    "[…]} or {\"not\": …}": N_("a condition over the answers: {\"field\", \"op\", \"value\"}, "
                               "{\"all\": […]}, {\"any\": […]} or {\"not\": …}"),
    "a condition over the submission's answers: {\"field\", \"op\", \"value\"}, {\"all\": […]}, "
    "{\"any\": […]} or {\"not\": …}": N_("a condition over the submission's answers: {\"field\", "
                                         "\"op\", \"value\"}, {\"all\": […]}, {\"any\": […]} or "
                                         "{\"not\": …}"),
    "a state id (sent on entering that state) or \"*\" (on entering any state)":
        N_("a state id (sent on entering that state) or \"*\" (on entering any state)"),
    "a text shown to people: a plain string, or an object keyed by language code such as "
    "{\"de\": \"…\", \"en\": \"…\"}": N_("a text shown to people: a plain string, or an object "
                                        "keyed by language code such as {\"de\": \"…\", \"en\": "
                                        "\"…\"}"),
    "the state(s) the transition starts from: a state id, a list of state ids, or \"*\" for "
    "every non-final state": N_("the state(s) the transition starts from: a state id, a list of "
                                "state ids, or \"*\" for every non-final state"),
    "a form id: a lowercase letter, then up to 63 lowercase letters, digits, '_' or '-'":
        N_("a form id: a lowercase letter, then up to 63 lowercase letters, digits, '_' or '-'"),
    "a language code such as 'de', 'en' or 'de-CH'":
        N_("a language code such as 'de', 'en' or 'de-CH'"),
    "a number (number fields) or an ISO date YYYY-MM-DD (date fields)":
        N_("a number (number fields) or an ISO date YYYY-MM-DD (date fields)"),
    "a role name such as 'coordinator' or 'admin': a lowercase letter, then up to 63 lowercase "
    "letters, digits or '_'": N_("a role name such as 'coordinator' or 'admin': a lowercase "
                                 "letter, then up to 63 lowercase letters, digits or '_'"),
    "a rule: when a condition holds, show, hide or require fields and steps":
        N_("a rule: when a condition holds, show, hide or require fields and steps"),
    "a workflow id: a lowercase letter, then up to 63 lowercase letters, digits, '_' or '-'":
        N_("a workflow id: a lowercase letter, then up to 63 lowercase letters, digits, '_' or "
           "'-'"),
    "a workflow id: the workflow submissions of this form go through (default: review)":
        N_("a workflow id: the workflow submissions of this form go through (default: review)"),
    "an HTML autocomplete token such as 'name', 'email' or 'postal-code'":
        N_("an HTML autocomplete token such as 'name', 'email' or 'postal-code'"),
    "an https:// URL (plain http:// only for localhost, since the body carries personal data)":
        N_("an https:// URL (plain http:// only for localhost, since the body carries personal "
           "data)"),
    "an id: a lowercase letter, then up to 63 lowercase letters, digits or '_'":
        N_("an id: a lowercase letter, then up to 63 lowercase letters, digits or '_'"),
    "calendar days (in FORMFLOW_TIMEZONE) a submission may stay in this non-final state before "
    "the inbox marks it overdue": N_("calendar days a submission may stay in this state before "
                                     "the inbox marks it overdue"),
    "either a mail ('to' and 'template') or a webhook ('webhook' and 'secret_env')":
        N_("either a mail ('to' and 'template') or a webhook ('webhook' and 'secret_env')"),
    "equal_to, not_equal_to, contains, not_contains, starts_with, ends_with, greater_than, "
    "greater_or_equal, less_than, less_or_equal, one_of, none_of, is_empty, is_not_empty":
        N_("one of the operators equal_to, not_equal_to, contains, not_contains, starts_with, "
           "ends_with, greater_than, greater_or_equal, less_than, less_or_equal, one_of, "
           "none_of, is_empty, is_not_empty"),
    "true: a link /f/<form>?<field id>=<value> may fill this field":
        N_("true: a link /f/<form>?<field id>=<value> may fill this field"),
    "the answer the browser form starts with (it only pre-fills)":
        N_("the answer the browser form starts with (it only pre-fills)"),
    "the name of the environment variable holding the HMAC secret; it must start with "
    "FORMFLOW_WEBHOOK_, such as FORMFLOW_WEBHOOK_SECRET":
        N_("the name of the environment variable holding the HMAC secret; it must start with "
           "FORMFLOW_WEBHOOK_, such as FORMFLOW_WEBHOOK_SECRET"),
    "checkbox fields only: ticking it is a consent; the submission keeps the label shown, its "
    "language, the form version and the time":
        N_("checkbox fields only: ticking it is a consent; the submission keeps the label "
           "shown, its language, the form version and the time"),
    "days after a submission last entered a final state until its personal data is erased (a "
    "tombstone is kept)":
        N_("days after a submission last entered a final state until its personal data is "
           "erased (a tombstone is kept)"),
    "the data protection notice shown on the form's first step and on its review page":
        N_("the data protection notice shown on the form's first step and on its review page"),
    "a calculation over number fields such as 'sum(costs.amount) - discount' (calculated "
    "fields; docs/definitions.md §5)":
        N_("a calculation over number fields such as 'sum(costs.amount) - discount' "
           "(calculated fields; docs/definitions.md §5)"),
    'a number (number fields), an ISO date YYYY-MM-DD (date fields), or {"field": id}: the '
    'answer of another field of the same type':
        N_('a number (number fields), an ISO date YYYY-MM-DD (date fields), or {"field": id}: '
           'the answer of another field of the same type'),
    "how many files the field takes (file fields; default 1)":
        N_("how many files the field takes (file fields; default 1)"),
    'how many rows a repeating group has: {"min": 0, "max": 20} (max at most 100)':
        N_('how many rows a repeating group has: {"min": 0, "max": 20} (max at most 100)'),
    "the fields of each row of a repeating group":
        N_("the fields of each row of a repeating group"),
    "the file types allowed, checked against each file's content (file fields)":
        N_("the file types allowed, checked against each file's content (file fields)"),
    "the largest file in bytes (file fields)":
        N_("the largest file in bytes (file fields)"),
    "the prefix of human-readable references such as M in M-2026-00042: an uppercase letter, "
    "then up to 7 uppercase letters or digits":
        N_("the prefix of human-readable references such as M in M-2026-00042: an uppercase "
           "letter, then up to 7 uppercase letters or digits"),
}

# The most specific template first: "must be later than opens_at" before "must be {value}".
_COMPILED = tuple(
    (template, template.compiled())
    for template in sorted(MESSAGES, key=lambda t: -len(t.shape.replace("{}", "")))
)
_QUOTED = re.compile(r"""^(?:'([^']*)'|"([^"]*)")$""")


def _word(value: str) -> str:
    """A fixed engine word in the page language; ``a string or an object`` part by part."""
    if value in WORDS:
        return _(WORDS[value])
    parts = value.split(" or ")
    if len(parts) > 1 and all(part in WORDS for part in parts):
        return _(" or ").join(_(WORDS[part]) for part in parts)
    return value


def template_for(message: str) -> tuple[Template, re.Match[str]] | None:
    """The catalogue entry of an engine message (the most specific that matches)."""
    for template, pattern in _COMPILED:
        found = pattern.match(message)
        if found is not None:
            return template, found
    return None


def _inner(problem: str, place: Callable[[str], str]) -> str:
    """An inner message, perhaps ``/pointer: message`` (a workflow's problem named by a form)."""
    found = re.match(r"^(/\S*): (.*)$", problem, re.DOTALL)
    if found is None:
        return translate_message(problem, place)
    return f"{found.group(1)}: {translate_message(found.group(2), place)}"


def translate_message(message: str, place: Callable[[str], str]) -> str:
    """``message`` in the page language; ``place`` names a JSON pointer by label.

    An engine message outside the catalogue (none should be; the test says so) stays English.
    """
    matched = template_for(message)
    if matched is None:
        return message
    template, found = matched
    values: dict[str, str] = {}
    for name, value in found.groupdict().items():
        quoted = _QUOTED.match(value)
        if name == "other":
            value = place(value) or value
        elif name == "problem":
            value = _inner(value, place)
        elif quoted is not None:
            value = _("'%(value)s'", value=quoted.group(1) if quoted.group(1) is not None
                      else quoted.group(2))
        else:
            value = _word(value)
        values[name] = value
    return _(template.msgid, **values)
