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

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, session
from flask_babel import Babel, format_date, get_locale, get_timezone, get_translations
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from web.config import DEFAULT_TIMEZONE
from web.context import this_app, this_request

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
    "page_translations",
    "remember_language",
]

UI_LANGUAGES: tuple[str, ...] = ("de", "en")
"""Languages of the app's own pages; German first, as for our users."""

LANGUAGE_NAMES: dict[str, str] = {"de": "Deutsch", "en": "English"}
"""Each language named in itself, as a language switch must."""

SESSION_KEY = "lang"
_LANGUAGE_ATTR = "formflow_language"
_TRANSLATIONS_ATTR = "formflow_translations"
_LONG_DATES_KEY = "formflow_long_dates"
_LONG_DATES_MAX = 4096
"""Texts kept per app at most (then forgotten at once): a few languages × the days drafts
expire on or applicants answer — far fewer in practice."""
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
    # Flask-Babel's template callables look up context, domain and locale on every call.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: page_translations().ugettext(s),
        ngettext=lambda s, p, n: page_translations().ungettext(s, p, n),
        pgettext=lambda c, s: page_translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: page_translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    # Jinja's ``_`` looks ``gettext`` up and calls it, which calls the lambda above: three
    # calls through the template context per text, a dozen texts per page. One does it all.
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"] = _template_gettext
    app.before_request(_remember_asked_language)
    app.context_processor(_template_globals)


@pass_context
def _template_gettext(context: Context, string: str, /, **variables: Any) -> str:
    """The templates' ``_``/``gettext``: Jinja's newstyle ``gettext`` (the text translated,
    made ``Markup`` under autoescape, then always ``%``-formatted with the keywords, even
    none) on this request's translations."""
    text: str = page_translations().ugettext(string)
    if context.eval_ctx.autoescape:
        text = Markup(text)
    return text % variables


def select_language() -> str:
    """Flask-Babel's locale selector (see the module docstring for the order)."""
    current = this_request()
    asked = current.args.get("lang", "")
    if asked in UI_LANGUAGES:
        return asked
    remembered = session.get(SESSION_KEY)
    if remembered in UI_LANGUAGES:
        return str(remembered)
    return current.accept_languages.best_match(UI_LANGUAGES) or UI_LANGUAGES[0]


def current_language() -> str:
    """The language of the page being rendered (``de`` or ``en``), decided once per request."""
    if not has_request_context():
        return _language_of(get_locale())
    current = this_request()
    found: str | None = getattr(current, _LANGUAGE_ATTR, None)
    if found is None:
        found = _language_of(get_locale())
        setattr(current, _LANGUAGE_ATTR, found)
    return found


def page_translations() -> Any:
    """Flask-Babel's translations for this request (the app's catalogue in its language),
    looked up once per request: a page does not change language while it is built."""
    if not has_request_context():
        return get_translations()
    current = this_request()
    found = getattr(current, _TRANSLATIONS_ATTR, None)
    if found is None:
        found = get_translations()
        setattr(current, _TRANSLATIONS_ATTR, found)
    return found


@dataclass
class _LongDates:
    zone: ZoneInfo
    """The app's time zone (``FORMFLOW_TIMEZONE``: it has no per-user zone)."""
    texts: dict[tuple[str, date], str] = field(default_factory=dict)


def long_date(value: date) -> str:
    """``flask_babel.format_date(value, "long")`` in the page's language — the same text —
    kept per (language, day) for the app.

    Babel takes ~30 µs per date (locale data, the pattern, and for a datetime the conversion
    to the app's time zone through pytz); every page with a draft shows its expiry, and there
    are only so many days. A datetime (naive: UTC, as Flask-Babel takes it) is first turned
    into its day in the app's time zone, with ``zoneinfo`` (the same IANA rules, in C).
    """
    extensions = this_app().extensions
    found: _LongDates | None = extensions.get(_LONG_DATES_KEY)
    if found is None:
        zone = ZoneInfo(str(get_timezone()))
        found = extensions[_LONG_DATES_KEY] = _LongDates(zone)
    day = value
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        day = aware.astimezone(found.zone).date()
    key = (current_language(), day)
    text = found.texts.get(key)
    if text is None:
        if len(found.texts) >= _LONG_DATES_MAX:
            found.texts.clear()
        text = found.texts[key] = str(format_date(day, "long"))
    return text


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
    current = this_request()
    args = [(k, v) for k, v in current.args.items(multi=True) if k != "lang"]
    args.append(("lang", language))
    return f"{current.path}?{urlencode(args)}"


def _remember_asked_language() -> None:
    current = this_request()
    if not current.query_string:  # nothing asked (every API call): no query to parse
        return
    asked = current.args.get("lang", "")
    if asked in UI_LANGUAGES and session.get(SESSION_KEY) != asked:
        session[SESSION_KEY] = asked


def _template_globals() -> dict[str, Any]:
    return {
        "lang": current_language(),
        "ui_languages": [(code, LANGUAGE_NAMES[code]) for code in UI_LANGUAGES],
        "language_url": language_url,
    }
