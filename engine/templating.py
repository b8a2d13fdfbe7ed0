"""Render a workflow's notification templates safely, in the recipient's language.

Templates are written by administrators, not by developers, so they run in Jinja's
*immutable* sandbox: no attribute starting with ``_`` (the classic ``''.__class__.__mro__``
escape), no mutating calls such as ``dict.pop``, bounded ``range``. Undefined names are an
error (``StrictUndefined``) rather than an empty string, because a mail saying "Hallo ," is
worse than a failed delivery that names the template and the mistake.

Subject and text body are plain text: autoescaping would put ``&amp;`` into a mail subject.
The HTML body is autoescaped, so an applicant's answer can never inject markup into the mail a
coordinator opens: the ``safe`` filter does not exist here and ``{% autoescape %}`` blocks are
refused, so no template can mark an answer as markup.

Rendering is bounded, so no template can hold a worker: all ``{% for %}`` loops of one
rendering together run over at most :data:`MAX_LOOP_ITEMS` items, a rendered text is at most
:data:`MAX_OUTPUT` characters, ``*`` and ``**`` cannot build huge strings or numbers, and
``lipsum`` is gone. A template that reaches a bound fails like any other broken template.

Without an ``html`` text, the HTML part is derived from the rendered text
body (escaped, blank-line paragraphs become ``<p>``), so every mail has both parts.

The context is plain data the caller builds — nothing with methods worth calling:

- ``submission``: ``{id, state, reference, created_at, form_title, status_url, inbox_url}``
  (``inbox_url``: the submission's page for coordinators, for staff mails)
- ``answers``: field id → typed answer
- ``transition``: ``{id, actor, comment}`` (``None`` values when the submission was just
  created); ``comment`` is the message to the applicant. A transition's internal ``note`` is
  deliberately not here: no template can put it into a mail.
"""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, lru_cache, partial
from itertools import islice
from typing import Any, Literal

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, nodes, pass_eval_context
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.visitor import NodeTransformer
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

MAX_LOOP_ITEMS = 10_000
"""Items all loops of one rendering may run over together (a mail lists a few answers)."""
MAX_OUTPUT = 100_000
"""Characters a rendered subject, text or HTML part may have."""
MAX_POWER = 64
"""The largest exponent ``**`` takes."""
_LOOP_FILTER = "formflow_loop"
"""The filter every loop's items go through (``_Bounded``)."""
_LENGTH_FILTER = "formflow_length"
"""The filter every ``~`` goes through (``_Bounded``)."""
_loop_budget: ContextVar[list[int]] = ContextVar("formflow_loop_budget")
"""The loop items the rendering in progress (in this thread or task) may still run over."""


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    """A template rendered for one recipient; ``html`` is a body fragment, not a document."""

    template: str
    language: str
    subject: str
    text: str
    html: str


class _Sandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with the ``_`` rule stated here rather than inherited silently,
    without ``safe`` and ``lipsum``, and with everything that could build a huge string
    bounded: ``*``, ``**``, ``~``, ``join`` and ``replace`` check the size of what they would
    make first; the filters that pad to a width (``center``, ``indent``, ``wordwrap``,
    ``format``), ``%`` on text and ``str.format`` are not available."""

    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        del self.filters["safe"]
        del self.globals["lipsum"]
        for padding in ("center", "indent", "wordwrap", "format"):
            del self.filters[padding]
        join, replace = self.filters["join"], self.filters["replace"]
        self.filters["join"] = pass_eval_context(partial(_bounded_join, self, join))
        self.filters["replace"] = pass_eval_context(partial(_bounded_replace, replace))
        self.filters[_LOOP_FILTER] = _counted_items
        self.filters[_LENGTH_FILTER] = _bounded_length

    def wrap_str_format(self, value: Any) -> None:
        """No sandboxed ``str.format``: it pads to any width (``is_safe_attribute`` refuses
        the attribute instead)."""
        return None

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if attr.startswith("_") or (isinstance(obj, str) and attr in ("format", "format_map")):
            return False
        return bool(super().is_safe_attribute(obj, attr, value))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%":
            if isinstance(left, str):
                raise SecurityError("'%' formatting of text is not available")
            return left % right
        if operator == "**":
            too_large = isinstance(right, int | float) and (
                abs(right) > MAX_POWER
                or (isinstance(left, int) and left.bit_length() * abs(right) > MAX_OUTPUT))
            if too_large:
                raise SecurityError(f"'**' takes exponents up to {MAX_POWER} and makes numbers "
                                    "of a few thousand digits at most")
            return left**right
        if isinstance(left, int) and isinstance(right, str | list | tuple):
            left, right = right, left
        if isinstance(left, str | list | tuple) and isinstance(right, int):
            if len(left) * right > MAX_OUTPUT:
                raise SecurityError(f"'*' would make more than {MAX_OUTPUT} items")
        return left * right


def _counted_items(items: Iterable[Any]) -> list[Any]:
    """A loop's items, counted against the rendering's :data:`MAX_LOOP_ITEMS`."""
    budget = _loop_budget.get([MAX_LOOP_ITEMS])
    taken = list(islice(items, budget[0] + 1))
    if len(taken) > budget[0]:
        raise SecurityError(f"the loops of a template may run over at most {MAX_LOOP_ITEMS} "
                            "items together")
    budget[0] -= len(taken)
    return taken


def _too_long(length: int, what: str) -> None:
    if length > MAX_OUTPUT:
        raise SecurityError(f"{what} would make text longer than {MAX_OUTPUT} characters")


def _bounded_length(value: Any) -> Any:
    """What ``~`` made, refused when over :data:`MAX_OUTPUT` (so doubling stops early)."""
    _too_long(len(value) if isinstance(value, str) else 0, "'~'")
    return value


def _bounded_join(environment: _Sandbox, join: Callable[..., Any], eval_ctx: Any,
                  value: Iterable[Any], d: str = "", attribute: Any = None) -> Any:
    """Jinja's ``join``, after checking the length of what it would make."""
    items = list(value)
    if attribute is not None:
        items = [environment.getattr(item, attribute) for item in items]
    _too_long(sum(len(str(item)) for item in items) + len(str(d)) * len(items), "'join'")
    return join(eval_ctx, items, d)


def _bounded_replace(replace: Callable[..., Any], eval_ctx: Any, s: Any, old: Any, new: Any,
                     count: int | None = None) -> Any:
    """Jinja's ``replace``, after checking the length of what it would make."""
    text, old, new = str(s), str(old), str(new)
    found = text.count(old) if count is None else min(text.count(old), max(count, 0))
    _too_long(len(text) + found * max(len(new) - len(old), 0), "'replace'")
    return replace(eval_ctx, s, old, new, count)


class _Bounded(NodeTransformer):
    """Every loop's items through the counting filter, every ``~`` through the length check."""

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.iter = nodes.Filter(node.iter, _LOOP_FILTER, [], [], None, None,
                                 lineno=node.iter.lineno)
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        return nodes.Filter(node, _LENGTH_FILTER, [], [], None, None, lineno=node.lineno)


def _bounded(template: nodes.Template) -> nodes.Template:
    bounded: nodes.Template = _Bounded().visit(template)
    return bounded


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
    """The template of ``source``; ``TemplateSyntaxError`` for every reason it is refused
    (including nesting deeper than Python can compile)."""
    environment = _environment(autoescape)
    try:
        parsed = environment.parse(source, filename=_TEMPLATE_FILENAME)
        for block in parsed.find_all(nodes.EvalContextModifier):
            raise TemplateSyntaxError("{% autoescape %} blocks are not allowed",
                                      block.lineno or 1, filename=_TEMPLATE_FILENAME)
        for used in parsed.find_all(nodes.Filter):
            if used.name == "safe":
                raise TemplateSyntaxError(
                    "the filter 'safe' is not available: answers are always escaped in HTML",
                    used.lineno or 1, filename=_TEMPLATE_FILENAME)
        return environment.from_string(_bounded(parsed))
    except (RecursionError, SyntaxError, MemoryError) as exc:
        if isinstance(exc, TemplateSyntaxError):
            raise
        raise TemplateSyntaxError("the template is nested too deeply", 1,
                                  filename=_TEMPLATE_FILENAME) from None


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
    budget = _loop_budget.set([MAX_LOOP_ITEMS])
    try:
        output: list[str] = []
        length = 0
        for chunk in _compile(source, autoescape).generate(context):
            length += len(chunk)
            if length > MAX_OUTPUT:
                raise SecurityError(f"the rendered text is longer than {MAX_OUTPUT} characters")
            output.append(chunk)
        return "".join(output)
    except TemplateSyntaxError as exc:
        raise TemplateFailed(name, part, language,
                             f"syntax error on line {exc.lineno}: {exc.message}") from None
    # Anything a template raises while rendering (undefined name, sandbox refusal, 1/0, a
    # filter given the wrong type) is the template author's mistake, reported the same way.
    except Exception as exc:
        line = _template_line(exc.__traceback__)
        where = f"line {line}: " if line else ""
        raise TemplateFailed(name, part, language, f"{where}{_describe(exc)}") from None
    finally:
        _loop_budget.reset(budget)


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
