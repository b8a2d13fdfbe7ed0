"""Calculated values: a small, safe arithmetic language parsed into a tree at load time.

An expression is never handed to ``eval``: it is tokenised and parsed here (recursive descent
with a depth bound), every name is checked against the form's fields, and evaluation walks the
tree. ``web/static/formflow-rules.js`` implements the same grammar and semantics; the
conformance vectors in ``tests/rule-vectors.json`` pin both (docs/definitions.md §5).

Grammar::

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := "-" unary | primary
    primary    := number | name | name "(" arguments ")" | "(" expression ")"
    name       := field id, or group "." field id (inside sum/min/max) or group (inside count)

Semantics (IEEE doubles): an empty operand makes ``+ - * /``, ``min``, ``max`` and ``round``
empty; ``sum`` counts it as 0; division by zero and any result that is not finite are empty;
``round(x, n)`` rounds half away from zero to ``n`` (0–10) decimals.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FUNCTIONS", "MAX_EXPRESSION_DEPTH", "MAX_EXPRESSION_LENGTH", "Call", "Computation",
    "Expression", "ExpressionError", "Name", "Negate", "Number", "Operation", "Reader", "calls",
    "check_call", "compute", "names_read", "output", "parse_expression", "round_half_away",
]

MAX_EXPRESSION_LENGTH = 2000
"""Characters an expression may have: far beyond any budget formula, small enough that
parsing and checking stay cheap."""
MAX_EXPRESSION_DEPTH = 64
"""How deep the tree may be (``a + b + c`` is two levels, each parenthesis or call one more),
so that the recursive checker and evaluator (on both sides) cannot overflow a stack."""
MAX_DECIMALS = 10

FUNCTIONS: Mapping[str, tuple[int, int | None]] = {
    "sum": (1, None), "min": (1, None), "max": (1, None), "round": (1, 2), "count": (1, 1),
}
"""Function name → (fewest, most) arguments (``None``: any number)."""


@dataclass(frozen=True, slots=True)
class Number:
    value: float


@dataclass(frozen=True, slots=True)
class Name:
    """A field (``group`` is ``None``) or a field of every row of a repeating group."""

    field: str
    group: str | None = None


@dataclass(frozen=True, slots=True)
class Negate:
    item: Expression


@dataclass(frozen=True, slots=True)
class Operation:
    op: str
    left: Expression
    right: Expression


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    arguments: tuple[Expression, ...]


Expression = Number | Name | Negate | Operation | Call


class ExpressionError(ValueError):
    """An expression that cannot be parsed; the message says where and why."""


_SPACE = re.compile(r"[ \t\r\n]*")
_TOKEN = re.compile(r"[0-9]+(?:\.[0-9]+)?|[a-z][a-z0-9_]*|[-+*/(),.]")


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    position = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise ExpressionError(
                f"unexpected character {text[position]!r} at position {position + 1}")
        tokens.append(match.group())
        position = _SPACE.match(text, match.end()).end()  # type: ignore[union-attr]
    return tokens


class _Parser:
    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> str | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, wanted: str | None = None) -> str:
        token = self.peek()
        if token is None:
            raise ExpressionError("the expression ends too early")
        if wanted is not None and token != wanted:
            raise ExpressionError(f"expected {wanted!r} but found {token!r}")
        self.index += 1
        return token

    def expression(self, depth: int) -> Expression:
        if depth > MAX_EXPRESSION_DEPTH:
            raise ExpressionError(f"an expression may nest at most {MAX_EXPRESSION_DEPTH} "
                                  "levels deep")
        node = self.term(depth)
        while self.peek() in ("+", "-"):
            op = self.take()
            node = Operation(op, node, self.term(depth + 1))
        return node

    def term(self, depth: int) -> Expression:
        node = self.unary(depth)
        while self.peek() in ("*", "/"):
            op = self.take()
            node = Operation(op, node, self.unary(depth + 1))
        return node

    def unary(self, depth: int) -> Expression:
        if self.peek() == "-":
            self.take()
            if depth > MAX_EXPRESSION_DEPTH:
                raise ExpressionError(f"an expression may nest at most {MAX_EXPRESSION_DEPTH} "
                                      "levels deep")
            return Negate(self.unary(depth + 1))
        return self.primary(depth)

    def primary(self, depth: int) -> Expression:
        token = self.take()
        if token == "(":
            node = self.expression(depth + 1)
            self.take(")")
            return node
        if token[0].isdigit():
            return Number(float(token))
        if not token[0].isalpha():
            raise ExpressionError(f"unexpected {token!r}")
        if self.peek() == "(":
            self.take()
            arguments: list[Expression] = []
            if self.peek() != ")":
                arguments.append(self.expression(depth + 1))
                while self.peek() == ",":
                    self.take()
                    arguments.append(self.expression(depth + 1))
            self.take(")")
            return Call(token, tuple(arguments))
        if self.peek() == ".":
            self.take()
            member = self.take()
            if not member[0].isalpha():
                raise ExpressionError(f"expected a field id after '{token}.'")
            return Name(member, group=token)
        return Name(token)


def parse_expression(text: str) -> Expression:
    """The tree of ``text``; ``ExpressionError`` says what is wrong with it."""
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"an expression may have at most {MAX_EXPRESSION_LENGTH} characters")
    if not text.strip():
        raise ExpressionError("the expression is empty")
    parser = _Parser(_tokens(text))
    node = parser.expression(0)
    if parser.peek() is not None:
        raise ExpressionError(f"unexpected {parser.peek()!r} after the end of the expression")
    if _height(node) > MAX_EXPRESSION_DEPTH:
        raise ExpressionError(f"an expression may nest at most {MAX_EXPRESSION_DEPTH} "
                              "levels deep")
    return node


def _children(node: Expression) -> tuple[Expression, ...]:
    if isinstance(node, Negate):
        return (node.item,)
    if isinstance(node, Operation):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.arguments
    return ()


def _height(root: Expression) -> int:
    """The tree's depth, found without recursion (a long ``a + b + …`` chain is deep)."""
    deepest = 0
    stack = [(root, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in _children(node))
    return deepest


def names_read(node: Expression) -> list[Name]:
    """Every name the expression reads (a group in ``count(group)`` included)."""
    if isinstance(node, Name):
        return [node]
    return [name for child in _children(node) for name in names_read(child)]


def calls(node: Expression) -> list[Call]:
    """Every function call in the expression, outermost first."""
    own = [node] if isinstance(node, Call) else []
    return own + [call for child in _children(node) for call in calls(child)]


Value = float | None
Reader = Callable[[Sequence[Any]], Any]
"""Reads one name's value out of an evaluation's values (a number, ``None``, or for a group
field the list of its rows' values)."""
Computation = Callable[[Sequence[Any]], Value]


def _finite(value: float) -> Value:
    return value if math.isfinite(value) else None


def _number(value: Any) -> Value:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _arithmetic(op: str, a: float, b: float) -> Value:
    if op == "+":
        return _finite(a + b)
    if op == "-":
        return _finite(a - b)
    if op == "*":
        return _finite(a * b)
    if b == 0:
        return None
    return _finite(a / b)


def round_half_away(value: float, decimals: int) -> Value:
    """``value`` rounded half away from zero: the same double operations as the browser's."""
    scale = 10.0 ** decimals
    magnitude = math.floor(abs(value) * scale + 0.5) / scale
    return _finite(-magnitude if value < 0 else magnitude)


def compute(node: Expression, read: Callable[[Name], Reader]) -> Computation:
    """``node`` as a function of an evaluation's values; ``read`` resolves each name once."""
    if isinstance(node, Number):
        constant = node.value
        return lambda values: constant
    if isinstance(node, Name):
        reader = read(node)
        return lambda values: _number(reader(values))
    if isinstance(node, Negate):
        inner = compute(node.item, read)

        def negate(values: Sequence[Any]) -> Value:
            value = inner(values)
            return None if value is None else -value + 0.0

        return negate
    if isinstance(node, Operation):
        left, right, op = compute(node.left, read), compute(node.right, read), node.op

        def operation(values: Sequence[Any]) -> Value:
            a = left(values)
            if a is None:
                return None
            b = right(values)
            return None if b is None else _arithmetic(op, a, b)

        return operation
    return _call(node, read)


def _operands(node: Call, read: Callable[[Name], Reader]) -> Callable[[Sequence[Any]], list[Value]]:
    """The values a function works on: each argument's, a group field's rows spread out."""
    parts: list[tuple[bool, Callable[[Sequence[Any]], Any]]] = []
    for argument in node.arguments:
        if isinstance(argument, Name) and argument.group is not None:
            parts.append((True, read(argument)))
        else:
            parts.append((False, compute(argument, read)))

    def operands(values: Sequence[Any]) -> list[Value]:
        found: list[Value] = []
        for spread, part in parts:
            if spread:
                found.extend(_number(v) for v in (part(values) or ()))
            else:
                found.append(part(values))
        return found

    return operands


def _call(node: Call, read: Callable[[Name], Reader]) -> Computation:
    name = node.function
    if name == "count":
        (group,) = node.arguments
        assert isinstance(group, Name)
        rows = read(group)
        return lambda values: float(len(rows(values) or ()))
    if name == "round":
        value = compute(node.arguments[0], read)
        decimals = int(node.arguments[1].value) if len(node.arguments) > 1 and isinstance(
            node.arguments[1], Number) else 0

        def rounded(values: Sequence[Any]) -> Value:
            x = value(values)
            return None if x is None else round_half_away(x, decimals)

        return rounded
    operands = _operands(node, read)
    if name == "sum":

        def total(values: Sequence[Any]) -> Value:
            result = 0.0
            for item in operands(values):
                if item is not None:
                    result += item
            return _finite(result)

        return total
    pick = min if name == "min" else max

    def extreme(values: Sequence[Any]) -> Value:
        items = [item for item in operands(values) if item is not None]
        if not items or len(items) < len(operands(values)):
            return None
        result = items[0]
        for item in items[1:]:
            result = pick(result, item)
        return result

    return extreme


def check_call(node: Call) -> str | None:
    """What is wrong with a call's name or arguments regardless of the form, if anything."""
    if node.function not in FUNCTIONS:
        return f"unknown function '{node.function}' (use one of {', '.join(FUNCTIONS)})"
    fewest, most = FUNCTIONS[node.function]
    count = len(node.arguments)
    if count < fewest or (most is not None and count > most):
        wanted = str(fewest) if fewest == most else (
            f"at least {fewest}" if most is None else f"{fewest} to {most}")
        return f"'{node.function}' takes {wanted} argument(s), not {count}"
    if node.function == "round" and count == 2:
        decimals = node.arguments[1]
        if not (isinstance(decimals, Number) and decimals.value.is_integer()
                and 0 <= decimals.value <= MAX_DECIMALS):
            return f"the second argument of 'round' must be a whole number from 0 to {MAX_DECIMALS}"
    if node.function == "count":
        group = node.arguments[0]
        if not (isinstance(group, Name) and group.group is None):
            return "'count' takes the id of a repeating group"
    return None


def output(value: Value) -> int | float | None:
    """A computed value as answers store it: whole numbers as integers (as number fields)."""
    if value is None:
        return None
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value
