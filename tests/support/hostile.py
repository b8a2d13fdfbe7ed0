"""Hypothesis strategies for hostile input, shared by the generated tests: any text (lone
surrogates and controls included), numbers beyond every range, JSON-like junk, and shipped
definitions with one place replaced by junk."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]
SHIPPED_FORMS: dict[str, Any] = {
    path.stem: json.loads(path.read_text("utf-8"))
    for path in sorted((ROOT / "forms").glob("*.json"))
}

HOSTILE_TEXT = st.one_of(
    st.text(),  # any code points, lone surrogates and controls included
    st.text(alphabet=st.characters(max_codepoint=0x40)),
    st.sampled_from(["x\ud800", "\x00", "a\r\nb", "1e400", "9" * 400, "a@" + "." * 5000 + "@",
                     "a" * 40 + "!", "NaN", "-0", "١٢", "\u202e", "\ufeff"]),
)
NUMBERS = st.one_of(st.integers(), st.integers(min_value=10**14, max_value=10**400),
                    st.floats(), st.floats(allow_nan=False, allow_infinity=False))
JSON_ISH = st.recursive(
    st.one_of(st.none(), st.booleans(), NUMBERS, HOSTILE_TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(HOSTILE_TEXT, inner, max_size=4)),
    max_leaves=12,
)


def json_paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every place in a JSON document, as the keys leading there."""
    found = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            found += json_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += json_paths(item, (*path, index))
    return found


def replaced(document: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    copy = json.loads(json.dumps(document))
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new
    return copy


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """``document`` with one place (perhaps the whole) replaced by JSON-like junk."""
    path = draw(st.sampled_from(json_paths(document)))
    return replaced(document, path, draw(JSON_ISH))
