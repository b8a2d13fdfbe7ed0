"""Answer conversion and validation per field type, and the wording of every validation error.

Conversion is what every caller (browser posts, the JSON API, rule values) relies on to get the
same typed answer, so each type's accepted spellings and refusals are pinned down here. The
message tests make sure every error code can be produced, is worded in German and English, and
gets the parameters its sentence needs.
"""

from __future__ import annotations

import string
from typing import Any

import pytest

from engine.answers import check, convert
from engine.definitions import load_form
from engine.evaluation import evaluate
from engine.messages import MESSAGES, message
from engine.model import DEFAULT_MAX_LENGTH, Field, Option


def _field(kind: Any, **limits: Any) -> Field:
    return Field(id="f", type=kind, step="s", **limits)


def _choice(kind: Any, *values: str) -> Field:
    return _field(kind, options=tuple(Option(v, {"": v.upper()}) for v in values))


def _code(f: Field, raw: Any) -> str | None:
    _, error = convert(f, raw)
    return error.code if error else None


# ---------------------------------------------------------------------------------------------
# Conversion
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["text", "tel", "url", "email", "textarea"])
@pytest.mark.parametrize(
    ("raw", "typed"),
    [("  Ada Muster \n", "Ada Muster"), ("   ", None), ("", None), (None, None), (42, "42")],
)
def test_text_is_trimmed_and_blank_is_empty(kind: str, raw: Any, typed: Any) -> None:
    assert convert(_field(kind), raw) == (typed, None)


@pytest.mark.parametrize("raw", [True, False, ["a"], {"a": 1}])
def test_text_refuses_non_text(raw: Any) -> None:
    assert _code(_field("text"), raw) == "not_text"


@pytest.mark.parametrize(
    ("raw", "typed"),
    [
        ("250", 250),
        (" 250 ", 250),
        (250.0, 250),
        ("250.0", 250),
        ("17.5", 17.5),
        ("17,5", 17.5),  # German decimal comma
        ("-3", -3),
        (".5", 0.5),
        ("1e3", 1000),
        (17.5, 17.5),
        (0, 0),
    ],
)
def test_number_conversion(raw: Any, typed: int | float) -> None:
    value, error = convert(_field("number"), raw)
    assert error is None
    assert value == typed
    assert type(value) is type(typed)  # integral values are integers


@pytest.mark.parametrize(
    "raw", [True, False, "abc", "1.000,5", "1,2,3", "12 kg", "nan", "inf", float("nan"),
            ["1"], {"n": 1}]
)
def test_number_refuses_what_is_not_a_number(raw: Any) -> None:
    assert _code(_field("number"), raw) == "not_a_number"


@pytest.mark.parametrize(
    "raw", [10**15, -(10**15), 10**400, "9" * 16, "1" * 400, "1e400", "-1e400", 1e15,
            float("inf"), float("-inf"), "1e15", "1000000000000000,5"]
)
def test_number_beyond_what_the_database_holds_is_too_large(raw: Any) -> None:
    assert _code(_field("number"), raw) == "number_too_large"


@pytest.mark.parametrize("raw", [10**15 - 1, -(10**15 - 1), "999999999999999", 999999999999999.5])
def test_number_just_below_the_limit_is_kept(raw: Any) -> None:
    value, error = convert(_field("number"), raw)
    assert error is None
    assert value == float(raw)


@pytest.mark.parametrize("kind", ["text", "tel", "url", "email", "textarea"])
@pytest.mark.parametrize(
    "raw", ["x\ud800", "\udfff", "a\udc00b", "\x00", "a\x00b", "\x1b[31m", "\x08", "\x0b",
            "\x0c", "x\x1f", "\x1c"]
)
def test_text_refuses_control_characters_and_lone_surrogates(kind: str, raw: str) -> None:
    assert _code(_field(kind), raw) == "invalid_characters"


@pytest.mark.parametrize(
    ("raw", "typed"),
    [("a\r\nb", "a\nb"), ("a\tb", "a\tb"), ("a\rb", "a\rb"), ("\r\n\r\nx\r\n", "x"),
     ("😀 \U0010ffff", "😀 \U0010ffff"), ("\x7f\x85", "\x7f")],
)
def test_text_keeps_tab_and_line_breaks_with_crlf_as_lf(raw: str, typed: str) -> None:
    assert convert(_field("textarea"), raw) == (typed, None)


@pytest.mark.parametrize("raw", [float("inf"), float("-inf"), float("nan"), 10**400, 1e300, 10**15])
def test_text_refuses_numbers_it_cannot_write_as_given(raw: Any) -> None:
    assert _code(_field("text"), raw) == "not_text"


@pytest.mark.parametrize("raw", [None, "", "  "])
def test_empty_number_is_none(raw: Any) -> None:
    assert convert(_field("number"), raw) == (None, None)


@pytest.mark.parametrize(
    ("raw", "typed"),
    [("2024-02-29", "2024-02-29"), (" 2024-01-05 ", "2024-01-05"), ("", None), (None, None)],
)
def test_iso_dates(raw: Any, typed: str | None) -> None:
    assert convert(_field("date"), raw) == (typed, None)


@pytest.mark.parametrize(
    "raw", ["2023-02-30", "2023-02-29", "2024-13-01", "2023-2-3", "05.01.2024", "2024-01-05T10:00",
            20240105, True]
)
def test_malformed_or_impossible_dates_are_invalid(raw: Any) -> None:
    assert _code(_field("date"), raw) == "not_a_date"


@pytest.mark.parametrize(
    ("raw", "typed"),
    [(True, True), (False, False), (None, False), ("on", True), (" ON ", True), ("true", True),
     ("1", True), ("yes", True), ("", False), ("off", False), ("false", False), ("0", False)],
)
def test_checkbox_accepts_form_strings(raw: Any, typed: bool) -> None:
    assert convert(_field("checkbox"), raw) == (typed, None)


@pytest.mark.parametrize("raw", ["maybe", 1, 0, ["on"]])
def test_checkbox_refuses_anything_else(raw: Any) -> None:
    assert _code(_field("checkbox"), raw) == "not_a_checkbox"


@pytest.mark.parametrize(
    ("raw", "typed"),
    [(["c", "a", "a"], ["a", "c"]), (["b"], ["b"]), ("b", ["b"]), ([], []), (None, []),
     ("", [])],
)
def test_checkboxes_are_deduplicated_in_option_order(raw: Any, typed: list[str]) -> None:
    assert convert(_choice("checkboxes", "a", "b", "c"), raw) == (typed, None)


@pytest.mark.parametrize("raw", [["x"], ["a", "x"], [1], {"a": True}, 7])
def test_checkboxes_refuse_unknown_options(raw: Any) -> None:
    assert _code(_choice("checkboxes", "a", "b", "c"), raw) == "not_an_option"


@pytest.mark.parametrize("kind", ["select", "radio"])
def test_choice_is_one_option_value(kind: str) -> None:
    f = _choice(kind, "a", "1")
    assert convert(f, "a") == ("a", None)
    assert convert(f, 1) == ("1", None)  # a number sent for a numeric option value
    assert convert(f, "") == (None, None)
    for raw in ("x", "A", True, ["a"]):
        assert _code(f, raw) == "not_an_option", raw


# ---------------------------------------------------------------------------------------------
# Limits
# ---------------------------------------------------------------------------------------------


def _codes(f: Field, value: Any) -> list[str]:
    return [e.code for e in check(f, value)]


def test_text_limits() -> None:
    assert _codes(_field("text", min_length=3, max_length=5), "ab") == ["min_length"]
    assert _codes(_field("text", min_length=3, max_length=5), "abcdef") == ["max_length"]
    assert _codes(_field("text", min_length=3, max_length=5), "abc") == []
    assert _codes(_field("text", pattern="[0-9]{5}"), "1234") == ["pattern"]
    assert _codes(_field("text", pattern="[0-9]{5}"), "12345") == []
    assert _codes(_field("email"), "ada@example.org") == []
    assert _codes(_field("email"), "ada@example") == ["invalid_email"]
    assert _codes(_field("tel"), "+49 (30) 123-456") == []


@pytest.mark.parametrize(
    "address", ["ada@example.org", "x_y@z.de", "é@x.de", "a.b+c@sub.example.org",
                "a@münchen.de", "l" * 64 + "@example.org", "a@" + "d" * 63 + "." + "e" * 60],
    ids=lambda address: f"{address[:12]}…{len(address)}",
)
def test_email_addresses_accepted(address: str) -> None:
    assert _codes(_field("email"), address) == []


@pytest.mark.parametrize(
    "address", ["ada@", "@example.org", "a..b@example.org", "a.@example.org", "a b@example.org",
                "a@b@example.org", "a@localhost", "l" * 65 + "@example.org",
                "a@" + "d." * 130 + "de", "a@" + "." * 16_000 + "@",
                "a@" + "." * 256_000 + "@", "x" * 256_000],
    ids=lambda address: f"{address[:12]}…{len(address)}",
)
def test_email_addresses_refused_by_length_first_then_syntax(address: str) -> None:
    # The last three once took seconds to minutes (a quadratic regular expression); now the
    # lengths refuse them at once and the syntax check is linear.
    # (beyond the default cap of 1000 characters the length is refused as well)
    too_long = ["max_length"] if len(address) > DEFAULT_MAX_LENGTH["email"] else []
    assert _codes(_field("email"), address) == [*too_long, "invalid_email"]


@pytest.mark.parametrize("kind", ["text", "tel", "url", "email", "textarea"])
def test_a_text_field_without_max_length_has_the_default_cap(kind: str) -> None:
    limit = DEFAULT_MAX_LENGTH[kind]
    field = _field(kind)
    assert field.max_length is None and field.length_limit == limit
    assert "max_length" not in _codes(field, "a" * limit)
    assert "max_length" in _codes(field, "a" * (limit + 1))
    declared = _field(kind, max_length=limit * 3)
    assert "max_length" not in _codes(declared, "a" * (limit + 1))


def test_text_limits_of_other_kinds() -> None:
    assert _codes(_field("url"), "https://example.org/a?b=c") == []
    for bad in ("example.org", "ftp://example.org", "https://exa mple.org", "https://"):
        assert _codes(_field("url"), bad) == ["invalid_url"], bad
    assert _codes(_field("tel"), "+49 (30) 123-456") == []
    for bad in ("12", "call me", "+-()"):
        assert _codes(_field("tel"), bad) == ["invalid_tel"], bad


def test_number_and_date_limits() -> None:
    f = _field("number", min=0, max=10, step_size=0.5)
    assert _codes(f, 2.5) == []
    assert _codes(f, -1) == ["min"]
    assert _codes(f, 11) == ["max"]
    assert _codes(f, 2.2) == ["step"]
    assert _codes(_field("number", min=1, step_size=2), 3) == []  # steps count from min
    assert _codes(_field("number", min=1, step_size=2), 4) == ["step"]
    d = _field("date", min="2024-01-01", max="2024-12-31")
    assert _codes(d, "2024-06-30") == []
    assert _codes(d, "2023-12-31") == ["date_min"]
    assert _codes(d, "2025-01-01") == ["date_max"]


def test_checkboxes_selection_limits() -> None:
    f = Field(id="f", type="checkboxes", step="s", min_selected=2, max_selected=2,
              options=(Option("a", {}), Option("b", {}), Option("c", {})))
    assert _codes(f, ["a"]) == ["min_selected"]
    assert _codes(f, ["a", "b", "c"]) == ["max_selected"]
    assert _codes(f, ["a", "c"]) == []


# ---------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------

_OPTIONS = [{"value": "a", "label": "A"}, {"value": "b", "label": "B"},
            {"value": "c", "label": "C"}]

# code -> (field definition without id/label, answer, values its sentence must mention)
_CELL = {"id": "x", "type": "number", "label": {"de": "Betrag", "en": "Betrag"}}
_REF = {"id": "0" * 32, "name": "plan.pdf", "size": 600_000, "type": "application/pdf",
        "sha256": "0" * 64}
PRODUCERS: dict[str, tuple[dict[str, Any], Any, list[str]]] = {
    "required": ({"type": "text", "required": True}, "  ", []),
    "must_tick": ({"type": "checkbox", "required": True}, False, []),
    "choose_one": ({"type": "radio", "required": True, "options": _OPTIONS}, None, []),
    "not_text": ({"type": "text"}, ["x"], []),
    "min_length": ({"type": "text", "min_length": 5}, "abc", ["5", "3"]),
    "max_length": ({"type": "textarea", "max_length": 4}, "abcdefg", ["4", "7"]),
    "pattern": ({"type": "text", "pattern": "[0-9]{5}"}, "1234", []),
    "invalid_email": ({"type": "email"}, "ada@", []),
    "invalid_url": ({"type": "url"}, "example.org", []),
    "invalid_tel": ({"type": "tel"}, "call me", []),
    "not_a_number": ({"type": "number"}, "zwölf", []),
    "number_too_large": ({"type": "number"}, "1e400", []),
    "invalid_characters": ({"type": "textarea"}, "Zeile\x00", []),
    "min": ({"type": "number", "min": 18}, "17", ["18"]),
    "max": ({"type": "number", "max": 99.5}, 100, ["99.5"]),
    "step": ({"type": "number", "step": 0.25}, "1,1", ["0.25"]),
    "not_a_date": ({"type": "date"}, "2023-02-30", []),
    "date_min": ({"type": "date", "min": "2024-01-01"}, "2023-12-31", ["2024-01-01"]),
    "date_max": ({"type": "date", "max": "2024-12-31"}, "2025-01-01", ["2024-12-31"]),
    "not_an_option": ({"type": "select", "options": _OPTIONS}, "z", []),
    "min_selected": ({"type": "checkboxes", "min_selected": 2, "options": _OPTIONS}, ["a"],
                     ["2"]),
    "max_selected": ({"type": "checkboxes", "max_selected": 1, "options": _OPTIONS},
                     ["a", "b"], ["1"]),
    "not_a_checkbox": ({"type": "checkbox"}, "vielleicht", []),
    "not_rows": ({"type": "group", "repeat": {"max": 2}, "fields": [_CELL]}, "x", []),
    "min_rows": ({"type": "group", "repeat": {"min": 2, "max": 3}, "fields": [_CELL]}, [{}],
                 ["2"]),
    "max_rows": ({"type": "group", "repeat": {"max": 1}, "fields": [_CELL]}, [{}, {}], ["1"]),
    "in_row": ({"type": "group", "repeat": {"max": 3}, "fields": [_CELL]},
               [{}, {"x": "zwölf"}], ["2", "Betrag"]),
    "file_required": ({"type": "file", "required": True}, [], []),
    "not_a_file": ({"type": "file"}, [{"id": "spoofed"}], []),
    "too_many_files": ({"type": "file", "max_files": 1}, [_REF, _REF], ["1"]),
    "file_type": ({"type": "file", "accept": ["image/png"]}, [_REF], ["plan.pdf"]),
    "file_too_large": ({"type": "file", "max_size": 500_000}, [_REF], ["plan.pdf", "0.5"]),
}


GERMAN_WRITING = {"99.5": "99,5", "0.25": "0,25", "0.5": "0,5", "2024-01-01": "01.01.2024",
                  "2024-12-31": "31.12.2024"}
"""How German messages write the numbers and dates above."""


def _one_field_form(raw_field: dict[str, Any], languages: list[str]) -> Any:
    return load_form({
        "id": "m", "title": "M", "languages": languages,
        "steps": [{"id": "s", "fields": [{"id": "f", "label": "F", **raw_field}]}],
    })


def test_every_message_code_is_worded_in_german_and_english() -> None:
    assert set(PRODUCERS) == set(MESSAGES), "add a producing answer for each new code"
    for code, texts in MESSAGES.items():
        assert set(texts) >= {"de", "en"}, code
        assert texts["de"].strip() and texts["en"].strip() and texts["de"] != texts["en"], code
        names = {name for _, name, _, _ in string.Formatter().parse(texts["de"]) if name}
        assert names == {name for _, name, _, _ in string.Formatter().parse(texts["en"]) if name}


@pytest.mark.parametrize("code", sorted(PRODUCERS))
@pytest.mark.parametrize("language", ["de", "en"])
def test_each_code_is_produced_and_worded_with_its_parameters(code: str, language: str) -> None:
    raw_field, answer, mentioned = PRODUCERS[code]
    if language == "de":
        mentioned = [GERMAN_WRITING.get(value, value) for value in mentioned]
    form = _one_field_form(raw_field, ["de", "en"])
    result = evaluate(form, {"f": answer}, language)
    assert result.codes == {"f": [code]}
    (text,) = result.errors["f"]
    assert "{" not in text and "}" not in text
    for value in mentioned:
        assert value in text, (text, value)
    if not mentioned:
        assert text == MESSAGES[code][language]
    other = "en" if language == "de" else "de"
    assert text != evaluate(form, {"f": answer}, other).errors["f"][0]


def test_message_falls_back_to_german_for_an_unknown_language() -> None:
    assert message("required", "fr") == MESSAGES["required"]["de"]
    assert message("min", "xx", {"min": 3}) == MESSAGES["min"]["de"].format(min=3)


@pytest.mark.parametrize(
    ("languages", "asked", "expected"),
    [
        (["en", "de"], None, "en"),
        (["en", "de"], "fr", "en"),
        (["en", "de"], "de", "de"),
        (["de", "en"], "en", "en"),
        (["de"], "en", "de"),  # English is not offered by this form
    ],
)
def test_error_language_falls_back_to_the_forms_first_language(
    languages: list[str], asked: str | None, expected: str
) -> None:
    form = _one_field_form({"type": "text", "required": True}, languages)
    assert evaluate(form, {}, asked).errors == {"f": [MESSAGES["required"][expected]]}


def test_pattern_message_is_localised_with_fallback() -> None:
    raw = {"type": "text", "pattern": "[0-9]{5}",
           "pattern_message": {"de": "Bitte fünf Ziffern.", "en": "Five digits, please."}}
    form = _one_field_form(raw, ["de", "en", "fr"])
    assert evaluate(form, {"f": "12"}, "en").errors == {"f": ["Five digits, please."]}
    assert evaluate(form, {"f": "12"}, "fr").errors == {"f": ["Bitte fünf Ziffern."]}
    assert evaluate(form, {"f": "12"}).errors == {"f": ["Bitte fünf Ziffern."]}


def test_german_messages_write_numbers_and_dates_the_german_way() -> None:
    from engine.messages import message

    assert message("step", "de", {"step": 0.25}).endswith("in Schritten von 0,25 ein.")
    assert message("date_min", "de", {"min": "2026-01-31"}).endswith("ab dem 31.01.2026 ein.")
    assert message("step", "en", {"step": 0.25}).endswith("steps of 0.25.")
    assert message("date_min", "en", {"min": "2026-01-31"}).endswith("on or after 2026-01-31.")
