"""Words of the administration pages: English msgids, German (the default) from a catalogue.

As everywhere in the app, msgids are English and the page language is chosen by
``web/i18n.py`` (German unless asked otherwise). The administration's words live in their own
Flask-Babel *domain* (``web/admin/translations/<lang>/LC_MESSAGES/admin.po``), so this part of
the app can grow without touching the catalogue of the applicant pages. A msgid the admin
catalogue does not know (e.g. one of ``base.html``) is looked up in the app's main catalogue,
so the shared page frame stays translated on admin pages too.

The JavaScript editor gets its words from the page (a JSON block filled by :func:`js_words`),
so there is exactly one place to translate them.

Update the catalogue after adding words (see docs/administrators.md):

    pybabel extract -F web/admin/babel.cfg -o web/admin/translations/admin.pot web
    pybabel update -D admin -i web/admin/translations/admin.pot -d web/admin/translations
    pybabel compile -D admin -d web/admin/translations
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import current_app, has_app_context
from flask_babel import Domain
from flask_babel import gettext as main_gettext

__all__ = ["DOMAIN", "TRANSLATIONS_DIR", "gettext", "ngettext", "page_language"]

TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"
DOMAIN = Domain(translation_directories=[str(TRANSLATIONS_DIR)], domain="admin")


def _babel_ready() -> bool:
    return has_app_context() and "babel" in current_app.extensions


def gettext(msgid: str, **variables: Any) -> str:
    """``msgid`` in the page language (admin catalogue first, then the app's)."""
    if not _babel_ready():
        return msgid % variables if variables else msgid
    words = str(DOMAIN.gettext(msgid, **variables))
    if words == (msgid % variables if variables else msgid):
        words = str(main_gettext(msgid, **variables))
    return words


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    """The singular or plural form for ``num`` in the page language (``num`` is a variable)."""
    if not _babel_ready():
        return (singular if num == 1 else plural) % {"num": num, **variables}
    return str(DOMAIN.ngettext(singular, plural, num, **variables))


def page_language() -> str:
    """``de`` or ``en``: the language the page is rendered in."""
    if _babel_ready():
        from flask_babel import get_locale

        locale = get_locale()
        if locale is not None and locale.language in ("de", "en"):
            return str(locale.language)
        return "de"
    return "de"
