"""What the browser editor needs to know about the definition language, taken from the engine.

The editor offers only what the engine accepts, and it learns that from the engine itself —
never from a second, hand-written copy in JavaScript:

* :func:`operators` — the rule language's ``OPERATORS`` table: for each operator the field
  types it fits and what value it takes (none, optional, required, a list);
* :func:`field_properties` — which properties each field type may carry (the loader's own
  table), so changing a field's type drops what no longer applies;
* the words of the page (:func:`js_words`), in the page language.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from engine.conditions import OPERATORS
from engine.definitions import allowed_properties  # the loader's table: one source of truth
from engine.model import INPUT_TYPES

__all__ = [
    "FIELD_TYPES",
    "JS_WORDS",
    "N_",
    "field_properties",
    "js_words",
    "operators",
]

FIELD_TYPES: tuple[str, ...] = (
    "text", "textarea", "email", "tel", "url", "number", "date",
    "select", "radio", "checkboxes", "checkbox", "paragraph", "calculated", "group", "file",
)
"""Every field type, in the order the editor offers them."""


def N_(msgid: str) -> str:  # noqa: N802 - the conventional name of a deferred-translation marker
    """Marks a word for extraction (``pybabel extract -k N_``) without translating it yet."""
    return msgid


def operators() -> dict[str, dict[str, Any]]:
    """``OPERATORS`` as JSON: ``{op: {"types": [...], "value": "none|optional|required|list"}}``."""
    return {
        name: {"types": sorted(op.types), "value": op.value} for name, op in OPERATORS.items()
    }


def field_properties() -> dict[str, list[str]]:
    """Field type → the properties a field of that type may have (besides id and type)."""
    return {
        kind: sorted(allowed_properties(kind) - {"id", "type"}) for kind in FIELD_TYPES
    }


def input_types() -> list[str]:
    return sorted(INPUT_TYPES)


JS_WORDS: tuple[str, ...] = (
    # field types
    N_("Text"), N_("Text area"), N_("Email"), N_("Phone"), N_("Web address"), N_("Number"),
    N_("Date"), N_("Drop-down list"), N_("Radio buttons"), N_("Checkboxes"),
    N_("Single checkbox"), N_("Paragraph"), N_("Calculated value"), N_("Repeating rows"),
    N_("File upload"), N_("Calculation"), N_("Rows at least"), N_("Rows at most"),
    N_("Allowed file types (by content)"), N_("Largest file in bytes"), N_("Most files"),
    N_("The fields of each row are edited in the JSON view."), N_("The answer of field"),
    # operators
    N_("equals"), N_("does not equal"), N_("contains"), N_("does not contain"),
    N_("starts with"), N_("ends with"), N_("greater than"), N_("at least"),
    N_("less than"), N_("at most"), N_("is one of"), N_("is none of"), N_("is empty"),
    N_("is not empty"),
    # builder
    N_("Step"), N_("Field"), N_("Id"), N_("Type"), N_("Title"), N_("Label"), N_("Help text"),
    N_("Placeholder"), N_("Content"), N_("Required"), N_("Default value"),
    N_("May be filled from the link"), N_("Availability"), N_("Opens at (local time)"),
    N_("Closes at (local time)"), N_("Places (submissions not yet decided)"),
    N_("When all places are taken: onto the waiting list"), N_("Waiting list state"),
    N_("Minimum length"), N_("Maximum length"), N_("Pattern (regular expression)"),
    N_("Message when the pattern does not match"), N_("Show a character counter"),
    N_("Autocomplete"), N_("Minimum"), N_("Maximum"), N_("Step size"),
    N_("Minimum selected"), N_("Maximum selected"), N_("Options"), N_("Value"),
    N_("Add option"), N_("Move up"), N_("Move down"), N_("Remove"), N_("Add step"),
    N_("Add field"), N_("New field of type"), N_("Move to step"), N_("Edit"),
    N_("Rules"), N_("Rule"), N_("Add rule"), N_("show"), N_("hide"), N_("require"),
    N_("when"), N_("all"), N_("any"), N_("of the following conditions hold:"),
    N_("Add condition"), N_("Choose a field"), N_("Choose an operator"), N_("(empty)"),
    N_("ticked"), N_("not ticked"), N_("Values, separated by commas"),
    N_("This condition is nested. Please edit it in the JSON view."),
    N_("Form"), N_("Description"), N_("Languages (codes, separated by commas)"),
    N_("Workflow"), N_("Reference prefix"), N_("Retention (days)"),
    N_("Data protection notice"), N_("Ticking it is a consent (kept as evidence)"),
    N_("Email field of the applicant"),
    N_("Name field of the applicant"), N_("Confirmation text"), N_("none"),
    N_("Steps and fields"), N_("not set"), N_("yes"), N_("no"),
    # saving, checking, publishing
    N_("Saved"), N_("Saving…"), N_("Unsaved changes"), N_("Not saved yet"),
    N_("Saving failed"), N_("Someone else saved this draft in the meantime."),
    N_("Please sign in again."), N_("The session has expired. Please reload the page."),
    N_("JSON syntax error"), N_("No problems found."), N_("%(n)s error(s), %(m)s warning(s)"),
    N_("error"), N_("warning"), N_("Publishing…"), N_("Published as version %(version)s."),
    N_("Review and move them"), N_("Whole definition"), N_("Duplicate"), N_("copy"),
    N_("Drag to move"),
    N_("Nothing changed: version %(version)s is published."),
    N_("Fix the errors first: they block publishing."),
    N_("Changes compared with the published version"), N_("No changes."),
    N_("Discard the draft? All unsaved and saved changes of the draft are lost."),
    N_("The server cannot be reached. Your changes are kept in this page."),
    # preview and what-if
    N_("Step %(n)s of %(m)s"), N_("Previous"), N_("Next"), N_("No step is visible."),
    N_("The preview needs a valid definition."), N_("visible"), N_("hidden"),
    N_("required"), N_("invalid"), N_("offered"), N_("not offered"),
    N_("the role may not"), N_("the condition does not hold"), N_("final state"),
    N_("initial state"), N_("No transitions from here."), N_("Please choose"),
    N_("Transitions offered per state"), N_("Fields and steps"),
    # workflow editor
    N_("States"), N_("State"), N_("Add state"), N_("Final state"), N_("Initial state"),
    N_("Transitions"), N_("Transition"), N_("Add transition"), N_("From"), N_("To"),
    N_("from every non-final state"), N_("Roles"), N_("Other roles (separated by commas)"),
    N_("Comment"), N_("Comment required"), N_("Comment optional"), N_("No comment"),
    N_("Only when a condition holds"), N_("Fields of form"), N_("Notifications"),
    N_("Notification"), N_("Add notification"), N_("On entering"), N_("every state"),
    N_("Send to"), N_("the applicant"), N_("everyone with role"), N_("this address"),
    N_("Template"), N_("Webhook address"), N_("Secret (name of an environment variable)"),
    N_("Mail"), N_("Webhook"), N_("Channel"), N_("Templates"), N_("Add template"),
    N_("Name of the new template"), N_("Subject"), N_("Body"), N_("HTML body (optional)"),
    N_("The diagram appears when the workflow is valid."),
    N_("Sample answers (JSON)"), N_("The sample answers are not valid JSON."),
)


def js_words(translate: Any, words: Iterable[str] = JS_WORDS) -> dict[str, str]:
    """msgid → its words in the page language, for the editor's scripts."""
    return {word: str(translate(word)) for word in words}
