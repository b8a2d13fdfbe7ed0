"""The built-in mails that carry a set-password link: a reset and an invitation, German and
English.

Like the resume-link mail (``engine.resume_mail``) these are the product's words, not an
administrator's template. The HTML part is built from escaped values; the link's end is given
as date and time in the app's time zone (a reset link lasts an hour, an invitation a week).
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from babel.dates import format_datetime
from markupsafe import Markup

from engine.templating import RenderedMessage, text_to_html

__all__ = ["account_link_message"]

_TEXTS: dict[str, dict[str, dict[str, str]]] = {
    "reset": {
        "de": {
            "subject": "Neues Passwort für formflow",
            "before": "Guten Tag,\n\njemand hat für Ihr Konto {email} ein neues Passwort "
                      "angefordert. Mit diesem Link können Sie es festlegen:",
            "after": "Der Link gilt bis {expires} und nur einmal. Wenn Sie kein neues Passwort "
                     "angefordert haben, können Sie diese Nachricht löschen; Ihr Passwort "
                     "bleibt dann, wie es ist.",
        },
        "en": {
            "subject": "New password for formflow",
            "before": "Hello,\n\nsomeone asked for a new password for your account {email}. "
                      "With this link you can set it:",
            "after": "The link works until {expires}, and only once. If you did not ask for a "
                     "new password, you can delete this message; your password stays as it is.",
        },
    },
    "invite": {
        "de": {
            "subject": "Einladung zu formflow",
            "before": "Guten Tag,\n\nSie wurden zu formflow eingeladen (Konto {email}). Mit "
                      "diesem Link legen Sie Ihr Passwort fest:",
            "after": "Der Link gilt bis {expires} und nur einmal. Bitte geben Sie ihn nicht "
                     "weiter.",
        },
        "en": {
            "subject": "Invitation to formflow",
            "before": "Hello,\n\nyou have been invited to formflow (account {email}). With this "
                      "link you set your password:",
            "after": "The link works until {expires}, and only once. Please do not pass it on.",
        },
    },
}


def account_link_message(
    *, purpose: str, email: str, url: str, expires_at: datetime, language: str, zone: tzinfo
) -> RenderedMessage:
    """The mail with a ``reset`` or ``invite`` link to ``url`` for the account ``email``."""
    texts_by_language = _TEXTS[purpose]
    chosen = language if language in texts_by_language else "de"
    texts = texts_by_language[chosen]
    expires = format_datetime(expires_at.astimezone(zone), "long", locale=chosen)
    before = texts["before"].format(email=email)
    after = texts["after"].format(expires=expires)
    link = Markup('<p><a href="{0}">{0}</a></p>').format(url)
    return RenderedMessage(
        template=f"account_{purpose}",
        language=chosen,
        subject=texts["subject"],
        text=f"{before}\n\n{url}\n\n{after}\n",
        html="\n".join((text_to_html(before), str(link), text_to_html(after))),
    )
