"""Administrators' ``pattern``: a small regular-expression syntax, matched in linear time.

A pattern is checked on the server with RE2 (``google-re2``), whose matching time grows
linearly with the answer, so no pattern can make an applicant's answer hang a worker
(``^(a+)+$`` against ``"a" * 40 + "!"`` is a classic that takes Python's ``re`` hours). The
browser checks the same pattern with JavaScript's ``RegExp`` (web/static/formflow-rules.js).

Only a subset both read the same way is allowed (docs/definitions.md §3): literal characters,
``.``, ``^``, ``$``, ``|``, groups ``(…)`` and ``(?:…)``, the quantifiers ``* + ? {n} {n,}
{n,m}`` (``n, m ≤ 1000``), character classes ``[…]`` and ``[^…]`` with ranges, the escapes
``\\n \\t \\r``, an escaped special character (``\\.``, ``\\(``, …) and the Unicode general
categories ``\\p{L}`` (and ``\\P{…}``) of :data:`CATEGORIES`. Backreferences, lookaround,
flags, named groups and the shorthand classes ``\\d \\w \\s \\b`` are refused: RE2 has no
backreferences or lookaround, and its ``\\d``/``\\w`` are ASCII-only while the browser's are
not, so the same pattern would accept different answers in the browser and on the server.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import re2

__all__ = ["CATEGORIES", "MAX_PATTERN_LENGTH", "Matcher", "compile_pattern", "pattern_problem"]

MAX_PATTERN_LENGTH = 1000
MAX_REPEAT = 1000
"""RE2's own limit for ``{n,m}``."""
CATEGORIES = frozenset({"L", "Lu", "Ll", "Lt", "Lm", "Lo", "M", "N", "Nd", "P", "S", "Z", "Zs"})
"""The Unicode general categories allowed in ``\\p{…}`` (both engines know them by these
names; scripts are spelled differently and are not allowed)."""

_SPECIAL = frozenset("\\^$.|?*+()[]{}/")
"""Characters that may be escaped to stand for themselves outside a class."""
_CLASS_SPECIAL = _SPECIAL | {"-"}
_QUANTIFIER = frozenset("*+?")
_SHORTHANDS = {
    "d": "[0-9]", "D": "[^0-9]", "w": "[A-Za-z0-9_] or \\p{L}", "W": "[^A-Za-z0-9_]",
    "s": "[ \\t\\n]", "S": "[^ \\t\\n]",
}

Matcher = Callable[[str], bool]
"""Whether a whole answer matches the pattern."""


class _Refused(Exception):
    def __init__(self, position: int, message: str) -> None:
        super().__init__(f"{message} (at position {position + 1})")


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` is outside the allowed subset or no valid expression; ``None`` if fine."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"not a valid pattern: longer than {MAX_PATTERN_LENGTH} characters"
    try:
        _Scanner(pattern).scan()
    except _Refused as exc:
        return f"not a valid pattern: {exc}"
    try:
        _compile(pattern)
    except re2.error as exc:
        detail = exc.args[0] if exc.args else exc
        if isinstance(detail, bytes):
            detail = detail.decode("utf-8", "replace")
        return f"not a valid pattern: {detail}"
    return None


def compile_pattern(pattern: str) -> Matcher:
    """The matcher of a pattern that :func:`pattern_problem` accepted."""
    matcher = _compile(pattern)
    return lambda text: matcher.fullmatch(text) is not None


@lru_cache(maxsize=1024)
def _compile(pattern: str) -> re2._Regexp:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is reported as a problem, not logged
    return re2.compile(pattern, options)


class _Scanner:
    """One pass over a pattern, refusing the first construct outside the subset."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.i = 0
        self.last = 0  # where the last single-character item of a class starts

    def scan(self) -> None:
        depth = 0
        can_repeat = False  # whether the previous item is something a quantifier may follow
        text = self.text
        while self.i < len(text):
            c = text[self.i]
            start = self.i
            if c == "\\":
                self.escape(in_class=False)
                can_repeat = True
            elif c == "[":
                self.char_class()
                can_repeat = True
            elif c == "(":
                if text.startswith("(?:", self.i):
                    self.i += 3
                elif text.startswith("(?", self.i):
                    raise _Refused(start, _group_problem(text[self.i:self.i + 4]))
                else:
                    self.i += 1
                depth += 1
                can_repeat = False
            elif c == ")":
                if depth == 0:
                    raise _Refused(start, "unbalanced ')'")
                depth -= 1
                self.i += 1
                can_repeat = True
            elif c in _QUANTIFIER or c == "{":
                if not can_repeat:
                    raise _Refused(start, f"nothing before {c!r} to repeat (write \\{c} for "
                                          "the character itself)")
                self.quantifier()
                can_repeat = False
            elif c in "]}":
                raise _Refused(start, f"a lone {c!r}: write \\{c} for the character itself")
            elif c in "^$|":
                self.i += 1
                can_repeat = False
            else:  # a literal character, or "."
                self.i += 1
                can_repeat = True
        if depth:
            raise _Refused(len(text) - 1, "missing ')'")

    def quantifier(self) -> None:
        text = self.text
        if text[self.i] == "{":
            close = text.find("}", self.i)
            body = text[self.i + 1:close] if close > 0 else ""
            low, comma, high = body.partition(",")
            if close < 0 or not low.isdecimal() or not low.isascii() or not (
                    high == "" or (high.isdecimal() and high.isascii())):
                raise _Refused(self.i, "'{' must start a repetition such as {2}, {2,} or {2,5} "
                                       "(write \\{ for the character itself)")
            if int(low) > MAX_REPEAT or (high and int(high) > MAX_REPEAT):
                raise _Refused(self.i, f"a repetition may count to at most {MAX_REPEAT}")
            if high and int(high) < int(low):
                raise _Refused(self.i, f"{{{body}}}: the first number is greater than the second")
            self.i = close + 1
        else:
            self.i += 1
        if self.i < len(text) and text[self.i] == "?":  # lazy: the same answers match
            self.i += 1
        if self.i < len(text) and (text[self.i] in _QUANTIFIER or text[self.i] == "{"):
            raise _Refused(self.i, "two repetitions in a row: put the first in a group (…)")

    def escape(self, in_class: bool) -> bool:
        """Consume one escape; whether it stands for a single character (may bound a range)."""
        text = self.text
        start = self.i
        if self.i + 1 >= len(text):
            raise _Refused(start, "the pattern ends with a lone '\\'")
        n = text[self.i + 1]
        self.i += 2
        if n in "ntr":
            return True
        if n in (_CLASS_SPECIAL if in_class else _SPECIAL):
            return True
        if n in "pP":
            close = text.find("}", self.i)
            name = text[self.i + 1:close] if text.startswith("{", self.i) and close > 0 else ""
            if name not in CATEGORIES:
                allowed = ", ".join(sorted(CATEGORIES))
                raise _Refused(start, f"\\{n} needs one of the categories {allowed} in braces, "
                                      "e.g. \\p{L}")
            self.i = close + 1
            return False
        if n in _SHORTHANDS:
            raise _Refused(start, f"\\{n} is not allowed (it means different things in the "
                                  f"browser and on the server): write {_SHORTHANDS[n]}")
        if n in "bB":
            raise _Refused(start, f"\\{n} (word boundary) is not allowed")
        if n.isdigit() or n == "k":
            raise _Refused(start, "backreferences are not allowed")
        if n == "-":
            raise _Refused(start, "'-' needs no '\\' outside a character class")
        raise _Refused(start, f"\\{n} is not allowed (escape only special characters, or use "
                              "\\n, \\t, \\r, \\p{…})")

    def char_class(self) -> None:
        text = self.text
        start = self.i
        self.i += 1
        if self.i < len(text) and text[self.i] == "^":
            self.i += 1
        first = self.i
        previous_single = False  # the previous item is one character (may start a range)
        while True:
            if self.i >= len(text):
                raise _Refused(start, "missing ']'")
            c = text[self.i]
            if c == "]":
                if self.i == first:
                    raise _Refused(start, "an empty class '[]' (write \\] for the character)")
                self.i += 1
                return
            if c == "[":
                raise _Refused(self.i, "write \\[ for '[' inside a class")
            if c == "-":
                at_edge = self.i == first or text.startswith("]", self.i + 1)
                if at_edge:
                    self.last = self.i
                    self.i += 1
                    previous_single = True
                    continue
                if not previous_single:
                    raise _Refused(self.i, "a range needs a single character on each side "
                                           "(write \\- for the character itself)")
                low = self.previous_char()
                self.i += 1
                high_start = self.i
                if self.i >= len(text):
                    raise _Refused(start, "missing ']'")
                if text[self.i] == "\\":
                    if not self.escape(in_class=True):
                        raise _Refused(high_start, "a range cannot end with a category")
                    high = _escaped_char(text[high_start + 1])
                elif text[self.i] in "[]":
                    raise _Refused(high_start, "write \\- for '-' before the end of a class")
                else:
                    high = text[self.i]
                    self.i += 1
                if ord(high) < ord(low):
                    raise _Refused(high_start - 1, f"the range {low}-{high} is out of order")
                previous_single = False
                continue
            if c == "\\":
                self.last = self.i
                previous_single = self.escape(in_class=True)
            else:
                self.last = self.i
                self.i += 1
                previous_single = True

    def previous_char(self) -> str:
        """The character the item just scanned stands for (a range's low end)."""
        text = self.text
        if text[self.last] == "\\":
            return _escaped_char(text[self.last + 1])
        return text[self.last]


def _escaped_char(n: str) -> str:
    return {"n": "\n", "t": "\t", "r": "\r"}.get(n, n)


def _group_problem(start: str) -> str:
    if start.startswith(("(?=", "(?!", "(?<=", "(?<!")):
        return "lookahead and lookbehind are not allowed"
    if start.startswith(("(?P", "(?<")):
        return "named groups are not allowed: use (…) or (?:…)"
    return "only (…) and (?:…) groups are allowed (no flags or other (?…) forms)"
