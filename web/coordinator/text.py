"""Words on the staff pages, through Flask-Babel (``web/i18n.py``).

As everywhere in the app, msgids are English and ``web/translations/de`` holds the German
words (German is the default page language). These wrappers only add one thing to
Flask-Babel's: an app without Babel set up (``app.extensions["babel"]`` missing, e.g. a
minimal app in a test) gets the msgid instead of a failed request.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, has_app_context
from flask_babel import gettext as babel_gettext
from flask_babel import ngettext as babel_ngettext

from web.i18n import current_language

__all__ = ["gettext", "ngettext", "page_language"]


def _babel_ready() -> bool:
    return has_app_context() and "babel" in current_app.extensions


def gettext(msgid: str, **variables: Any) -> str:
    """``msgid`` translated to the page language, ``%(name)s`` filled from ``variables``."""
    if _babel_ready():
        return str(babel_gettext(msgid, **variables))
    return msgid % variables if variables else msgid


def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
    if _babel_ready():
        return str(babel_ngettext(singular, plural, num, **variables))
    variables.setdefault("num", num)
    return (singular if num == 1 else plural) % variables


def page_language() -> str:
    """The language of the current page (``de`` or ``en``)."""
    return current_language()
