"""The language of the app's own pages: Flask-Babel, German by default, English on request.

Message ids in the code and templates are English; ``translations/de`` holds the German words
(the product speaks German first) and ``translations/en`` is an identity catalogue so both
languages are explicit. Texts that come from definitions are not translated here: they carry
their own language keys and are picked by :func:`current_language` with the definition's
fallback (``engine.text.localize``).

How the language is chosen, first match wins:

1. ``?lang=de`` / ``?lang=en`` in the URL — the visible switch on every page. It is remembered
   in the session, so the applicant's choice survives the next click and the POST after it.
2. the language remembered in the session (also set when a draft is resumed);
3. the browser's ``Accept-Language``;
4. German.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, current_app, request, session
from flask_babel import Babel, format_date, get_locale

from web.config import DEFAULT_TIMEZONE

__all__ = [
    "LANGUAGE_NAMES",
    "SESSION_KEY",
    "TRANSLATIONS_DIR",
    "UI_LANGUAGES",
    "current_language",
    "display_zone",
    "init_app",
    "language_url",
    "local_time",
    "long_date",
    "remember_language",
]

UI_LANGUAGES: tuple[str, ...] = ("de", "en")
"""Languages of the app's own pages; German first, as for our users."""

LANGUAGE_NAMES: dict[str, str] = {"de": "Deutsch", "en": "English"}
"""Each language named in itself, as a language switch must."""

SESSION_KEY = "lang"
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"

babel = Babel()


def init_app(app: Flask) -> None:
    """Bind Flask-Babel to ``app`` and make ``lang``/``language_url`` known to templates."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", UI_LANGUAGES[0])
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(TRANSLATIONS_DIR))
    # One zone for every time shown: FORMFLOW_TIMEZONE (web.config), also Flask-Babel's.
    babel.init_app(app, locale_selector=select_language,
                   default_timezone=str(app.config.get("TIMEZONE") or DEFAULT_TIMEZONE))
    app.add_template_filter(local_time)
    app.before_request(_remember_asked_language)
    app.context_processor(_template_globals)


def select_language() -> str:
    """Flask-Babel's locale selector (see the module docstring for the order)."""
    asked = request.args.get("lang", "")
    if asked in UI_LANGUAGES:
        return asked
    remembered = session.get(SESSION_KEY)
    if remembered in UI_LANGUAGES:
        return str(remembered)
    return request.accept_languages.best_match(UI_LANGUAGES) or UI_LANGUAGES[0]


def current_language() -> str:
    """The language of the page being rendered (``de`` or ``en``); Flask-Babel decides it
    once per request."""
    return _language_of(get_locale())


def long_date(value: date) -> str:
    """``value`` as a long date in the page's language (``15. Januar 2030``), a datetime
    (naive: UTC) taken as its day in the app's time zone (``FORMFLOW_TIMEZONE``)."""
    return str(format_date(value, "long"))


def display_zone() -> ZoneInfo:
    """The zone every time shown to staff and applicants is in (``FORMFLOW_TIMEZONE``)."""
    return ZoneInfo(str(current_app.config.get("TIMEZONE") or DEFAULT_TIMEZONE))


def local_time(value: datetime, language: str | None = None, *, with_time: bool = True) -> str:
    """A stored moment (UTC) as staff pages show it, in the app's zone: ``05.01.2027 18:30``
    in German, ``2027-01-05 18:30`` otherwise; only the day with ``with_time=False``.
    Templates use it as the ``local_time`` filter."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    local = aware.astimezone(display_zone())
    german = (language or current_language()) == "de"
    if with_time:
        return local.strftime("%d.%m.%Y %H:%M" if german else "%Y-%m-%d %H:%M")
    return local.strftime("%d.%m.%Y" if german else "%Y-%m-%d")


def _language_of(locale: Any) -> str:
    language = locale.language if locale is not None else UI_LANGUAGES[0]
    return language if language in UI_LANGUAGES else UI_LANGUAGES[0]


def remember_language(language: str) -> None:
    """Keep ``language`` for the following pages (e.g. the language a draft was saved in)."""
    if language in UI_LANGUAGES:
        session[SESSION_KEY] = language


def language_url(language: str) -> str:
    """This page in ``language``: same path, same query, only ``lang`` replaced.

    The switch is a plain link, so it works without JavaScript on every page; step pages add
    a script that saves the typed answers first (see ``formflow-page.js``).
    """
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", language))
    return f"{request.path}?{urlencode(args)}"


def _remember_asked_language() -> None:
    asked = request.args.get("lang", "")
    if asked in UI_LANGUAGES and session.get(SESSION_KEY) != asked:
        session[SESSION_KEY] = asked


def _template_globals() -> dict[str, Any]:
    return {
        "lang": current_language(),
        "ui_languages": [(code, LANGUAGE_NAMES[code]) for code in UI_LANGUAGES],
        "language_url": language_url,
    }
