"""The compiled catalogues match their sources, and every word of the applicant pages is
translated: German (the default) and English (explicit, though the msgids are English)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "web"
TRANSLATIONS = WEB / "translations"
LANGUAGES = ("de", "en")

# The sources of the applicant pages (other parts of the app share the catalogue).
APPLICANT_SOURCES = [
    ("applicant/**.py", "python"),
    ("errors.py", "python"),
    ("i18n.py", "python"),
    ("security.py", "python"),
    ("templates/base.html", "jinja2"),
    ("templates/index.html", "jinja2"),
    ("templates/applicant/**.html", "jinja2"),
    ("templates/errors/**.html", "jinja2"),
]


def catalogue(language: str) -> Catalog:
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle, locale=language)


def translated(catalog: Catalog) -> dict[object, object]:
    """msgid → msgstr; a plural entry's ids and strings as tuples (read_mo gives lists)."""
    return {_plain(m.id): _plain(m.string) for m in catalog
            if m.id and m.string and not m.fuzzy}


def _plain(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_is_up_to_date(language: str) -> None:
    """Run `pybabel compile -d web/translations` after editing a .po file."""
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo", "rb") as handle:
        compiled = read_mo(handle)
    assert translated(compiled) == translated(catalogue(language))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_applicant_message_is_translated(language: str) -> None:
    """Run the extract/update cycle of docs/applicants.md after adding a message."""
    msgids = {
        message for _, _, message, _, _ in extract_from_dir(str(WEB), APPLICANT_SOURCES)
    }
    assert len(msgids) > 40  # the extraction itself works
    words = translated(catalogue(language))
    missing = sorted(str(m) for m in msgids if m not in words)
    assert missing == []
