"""Definitions as JSON data: parsed strictly, and refused early for what no definition may hold.

Before the schema and the semantic checks look at a definition, one pass over the whole
document (``structure_problems``) finds what would otherwise make them fail instead of
answering with problems:

- nesting deeper than :data:`MAX_DEPTH` (a file of 2,000 nested lists overflows recursive
  checks; real definitions are less than a dozen levels deep);
- numbers that are not finite (``NaN``, ``Infinity``: not JSON, but Python's parser accepts
  them; a float literal such as ``1e400`` becomes infinite);
- text — values and property names alike — with characters no text in formflow may hold
  (``engine.text.forbidden_character``).

``parse_json`` reads a definition's text with the first two refused at parse time already.
"""

from __future__ import annotations

import json
import math
from typing import Any

from engine.exceptions import DefinitionError
from engine.problems import Problem, pointer_join
from engine.text import forbidden_character

__all__ = ["MAX_DEPTH", "parse_json", "structure_problems"]

MAX_DEPTH = 64
"""How deeply objects and lists may nest in a definition."""
_MAX_PROBLEMS = 50
"""More problems of this kind say nothing new: the file is not a definition."""


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number: write a finite number")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)
"""Shared: decoding keeps no state between calls."""


def parse_json(text: str | bytes) -> Any:
    """The parsed JSON of a definition file; ``DefinitionError`` (one problem at ``/``) when it
    is no UTF-8 JSON, holds ``NaN``/``Infinity`` or nests too deeply for the parser."""
    try:
        source = text.decode("utf-8-sig") if isinstance(text, bytes) else text
        return _DECODER.decode(source)
    except UnicodeDecodeError:
        message = "not a JSON file: the file is not UTF-8 text"
    except json.JSONDecodeError as exc:
        message = f"not a JSON file: {exc.msg} (line {exc.lineno}, column {exc.colno})"
    except RecursionError:
        message = f"not a definition: nested more than {MAX_DEPTH} levels deep"
    except ValueError as exc:  # NaN/Infinity, or an integer of thousands of digits
        message = f"not a JSON file: {exc}"
    raise DefinitionError([Problem("", message)])


def structure_problems(data: Any) -> list[Problem]:
    """What makes ``data`` unfit to be checked as a definition at all (see the module doc);
    an empty list when the other checks may run. Iterative, so no depth overflows it."""
    problems: list[Problem] = []
    stack: list[tuple[Any, str, int]] = [(data, "", 0)]
    while stack and len(problems) < _MAX_PROBLEMS:
        value, pointer, depth = stack.pop()
        if isinstance(value, str):
            position = forbidden_character(value)
            if position is not None:
                problems.append(Problem(pointer, _character_message(value, position)))
        elif isinstance(value, float):
            if not math.isfinite(value):
                problems.append(Problem(pointer, "must be a finite number (not NaN or Infinity)"))
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                problems.append(Problem(pointer, f"nested more than {MAX_DEPTH} levels deep"))
                continue
            items = value.items() if isinstance(value, dict) else enumerate(value)
            children = []
            for key, item in items:
                if isinstance(key, str) and (at := forbidden_character(key)) is not None:
                    message = "a property name " + _character_message(key, at)
                    problems.append(Problem(pointer, message))
                    continue  # its pointer could not even be printed
                children.append((item, pointer_join(pointer, key), depth + 1))
            stack.extend(reversed(children))
    problems.sort(key=lambda p: p.pointer)
    return problems


def _character_message(text: str, position: int) -> str:
    code = ord(text[position])
    what = "a lone surrogate" if 0xD800 <= code <= 0xDFFF else "a control character"
    return (f"contains {what} (U+{code:04X}) at position {position + 1}: "
            "text may not hold control characters other than tab and line breaks, "
            "nor invalid Unicode")
