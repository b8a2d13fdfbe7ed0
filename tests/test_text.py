"""engine.text: where stored JSON holds text no text may hold, and its readable form."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.text import REPLACEMENT, forbidden_paths, readable


def test_forbidden_paths_name_each_text_in_document_order() -> None:
    answers = {
        "name": "Ada\ud800",
        "ok": "tab\tline\nbreak\r\n",
        "list": ["fine", "bell\x07", {"deep": "nul\x00"}],
        "a/b~c": "\x1b",
        "bad\x01key": "fine",
        "count": 3,
    }
    assert forbidden_paths(answers) == [
        "/name", "/list/1", "/list/2/deep", "/a~1b~0c", f"/bad{REPLACEMENT}key",
    ]
    assert forbidden_paths("plain") == [] and forbidden_paths("\udfff") == [""]


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=5), children, max_size=4),
    max_leaves=12,
)


@given(JSON)
def test_readable_leaves_nothing_to_find_and_changes_only_what_is_found(value: Any) -> None:
    assert forbidden_paths(readable(value)) == []
    assert (readable(value) == value) == (forbidden_paths(value) == [])
