"""Render a workflow's notification templates safely, in the recipient's language.

Templates are written by administrators, not by developers, so they run in Jinja's
*immutable* sandbox: no attribute starting with ``_`` (the classic ``''.__class__.__mro__``
escape), no mutating calls such as ``dict.pop``, bounded ``range``. Undefined names are an
error (``StrictUndefined``) rather than an empty string, because a mail saying "Hallo ," is
worse than a failed delivery that names the template and the mistake.

Subject and text body are plain text: autoescaping would put ``&amp;`` into a mail subject.
The HTML body is autoescaped, so an applicant's answer can never inject markup into the mail a
coordinator opens. Without an ``html`` text, the HTML part is derived from the rendered text
body (escaped, blank-line paragraphs become ``<p>``), so every mail has both parts.

The context is plain data the caller builds — nothing with methods worth calling:

- ``submission``: ``{id, state, reference, created_at, form_title, status_url}``
- ``answers``: field id → typed answer
- ``transition``: ``{id, actor, comment}`` (``None`` values when the submission was just created)
"""

from __future__ import annotations

import re
import types
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, Literal

from jinja2 import StrictUndefined, Template, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markupsafe import Markup, escape

from engine.exceptions import TemplateFailed
from engine.model import WorkflowDefinition
from engine.problems import Problem, pointer_join
from engine.text import Text

__all__ = [
    "RenderedMessage",
    "TemplatePart",
    "check_templates",
    "template_text_problems",
    "render_template",
    "text_to_html",
]

TemplatePart = Literal["subject", "body", "html"]

_TEMPLATE_FILENAME = "<template>"
"""Jinja's filename for templates made from strings; used to find the failing line."""
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n+")


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A template rendered for one recipient; ``html`` is a body fragment, not a document."""

    template: str
    language: str
    subject: str
    text: str
    html: str


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with the ``_`` rule stated here rather than inherited silently."""

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr.startswith("_"):
            return False
        return bool(super().is_safe_attribute(obj, attr, value))


@cache
def _environment(autoescape: bool) -> _Sandbox:
    # Built on first use, not at import; one per escaping mode, shared by every render.
    return _Sandbox(
        autoescape=autoescape,
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        auto_reload=False,
    )


@lru_cache(maxsize=1024)
def _compile(source: str, autoescape: bool) -> Template:
    return _environment(autoescape).from_string(source)


def render_template(
    workflow: WorkflowDefinition,
    template_name: str,
    *,
    language: str,
    submission: Mapping[str, Any],
    answers: Mapping[str, Any],
    transition: Mapping[str, Any] | None = None,
    default_language: str | None = None,
) -> RenderedMessage:
    """Render the workflow's template ``template_name`` in ``language``.

    A text missing in ``language`` falls back to ``default_language`` (the form's first
    language, usually), then to the first language the template was written in. Raises
    :class:`TemplateFailed` naming the template, the part and the problem.
    """
    template = workflow.templates.get(template_name)
    if template is None:
        known = ", ".join(sorted(workflow.templates)) or "none"
        raise TemplateFailed(template_name, None, language,
                             f"workflow {workflow.id!r} has no such template (templates: {known})")
    fallback = default_language or _first_language(workflow.title) or language
    context = {
        "submission": dict(submission),
        "answers": dict(answers),
        "transition": dict(transition or {"id": None, "actor": None, "comment": None}),
    }

    def render(part: TemplatePart, chosen: tuple[str, str], autoescape: bool) -> str:
        key, source = chosen
        return _render(template_name, part, key or language, source, context, autoescape)

    body_language, body_source = _choose(template.body, language, fallback)
    subject = " ".join(render("subject", _choose(template.subject, language, fallback),
                              False).split())
    body = render("body", (body_language, body_source), False)
    # The HTML part must say what the text part says: use an HTML text only in the language
    # the body was actually taken from, else derive the HTML from the body.
    if body_language in template.html:
        html = render("html", (body_language, template.html[body_language]), True)
    else:
        html = text_to_html(body)
    return RenderedMessage(template_name, body_language or language, subject, body, html)


def text_to_html(text: str) -> str:
    """Plain text as escaped HTML: blank lines separate ``<p>``, single newlines are ``<br>``."""
    paragraphs = [p.strip("\n") for p in _PARAGRAPH_BREAK.split(text.strip())]
    return "\n".join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(line) for line in p.split("\n")))
        for p in paragraphs
        if p.strip()
    )


def check_templates(workflow: WorkflowDefinition) -> list[Problem]:
    """Compile every template text of ``workflow``; each syntax error as a pointer problem."""
    problems: list[Problem] = []
    for name, template in workflow.templates.items():
        parts: tuple[tuple[TemplatePart, Text], ...] = (
            ("subject", template.subject), ("body", template.body), ("html", template.html),
        )
        for part, text in parts:
            problems += template_text_problems(name, part, text)
    return problems


def template_text_problems(name: str, part: TemplatePart, text: Text) -> list[Problem]:
    """Syntax errors of one template text, so they surface at publish time, not when mailing.

    Pointers address the JSON file: ``/templates/<name>/<part>/<language>`` (no language
    segment for a text written as a plain string).
    """
    problems: list[Problem] = []
    for language, source in text.items():
        try:
            _compile(source, part == "html")
        except TemplateSyntaxError as exc:
            pointer = pointer_join("/templates", name, part)
            if language:
                pointer = pointer_join(pointer, language)
            problems.append(Problem(
                pointer, f"template syntax error on line {exc.lineno}: {exc.message}"
            ))
    return problems


def _render(
    name: str,
    part: TemplatePart,
    language: str,
    source: str,
    context: Mapping[str, Any],
    autoescape: bool,
) -> str:
    try:
        return _compile(source, autoescape).render(context)
    except TemplateSyntaxError as exc:
        raise TemplateFailed(name, part, language,
                             f"syntax error on line {exc.lineno}: {exc.message}") from None
    # Anything a template raises while rendering (undefined name, sandbox refusal, 1/0, a
    # filter given the wrong type) is the template author's mistake, reported the same way.
    except Exception as exc:
        line = _template_line(exc.__traceback__)
        where = f"line {line}: " if line else ""
        raise TemplateFailed(name, part, language, f"{where}{_describe(exc)}") from None


def _describe(exc: Exception) -> str:
    message = str(exc) or type(exc).__name__
    if type(exc).__module__ == "builtins":
        return f"{type(exc).__name__}: {message}"
    return message


def _template_line(tb: types.TracebackType | None) -> int | None:
    """The template line of the innermost frame Jinja attributed to the template source."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _choose(text: Text, language: str, fallback: str) -> tuple[str, str]:
    """``(language key, source)`` in the order of :func:`engine.text.localize`."""
    for key in (language, fallback, ""):
        if key in text:
            return key, text[key]
    return next(iter(text.items()), ("", ""))


def _first_language(text: Text) -> str | None:
    return next((key for key in text if key), None)
