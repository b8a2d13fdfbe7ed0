"""Every word of the administration is translated (German, the default; English explicit),
and the compiled catalogues match their sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from web.admin.metadata import JS_WORDS

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "web" / "admin" / "translations"
SOURCES = [("web/admin/**.py", "python"), ("web/templates/admin/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2)}


def words(path: Path, reader: object) -> dict[object, object]:
    with open(path, "rb") as handle:
        catalog = reader(handle) if reader is read_mo else read_po(handle)  # type: ignore[operator]
    # A plural message has a tuple of ids and a list of strings (a tuple here, to compare).
    return {
        tuple(m.id) if isinstance(m.id, list | tuple) else m.id:
            tuple(m.string) if isinstance(m.string, list | tuple) else m.string
        for m in catalog if m.id and m.string and not m.fuzzy
    }


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_admin_word_is_translated(language: str) -> None:
    """Run the extract/update/compile cycle of docs/administrators.md after adding words."""
    msgids = {m for _f, _l, m, _c, _x in extract_from_dir(str(ROOT), SOURCES, keywords=KEYWORDS)}
    assert len(msgids) > 200 and set(JS_WORDS) <= msgids
    translated = words(TRANSLATIONS / language / "LC_MESSAGES" / "admin.po", read_po)
    assert sorted(str(m) for m in msgids if m not in translated) == []


@pytest.mark.parametrize("language", ["de", "en"])
def test_compiled_catalogue_is_up_to_date(language: str) -> None:
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    assert words(folder / "admin.mo", read_mo) == words(folder / "admin.po", read_po)
