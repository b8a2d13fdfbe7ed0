"""The built-in mail that carries a draft's resume link, in German and English.

Workflow templates are for what happens to a *submission*; a draft has no workflow yet, and the
wording of "here is your link" is the product's, not an administrator's. It is therefore fixed
text in the applicant's language (German when the language is unknown), with the form's title
and the link filled in. The HTML part is built from escaped values, so a form title can never
inject markup; the link is an anchor there and a bare line in the text part. The link's last
day is the day in the app's time zone (``FORMFLOW_TIMEZONE``), written as the applicant pages
write it (Babel's long date), so page and mail name the same day in the same words.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from babel.dates import format_date
from markupsafe import Markup

from engine.templating import RenderedMessage, text_to_html

__all__ = ["TEMPLATE_NAME", "resume_link_message"]

TEMPLATE_NAME = "resume_link"
"""The name the message is recorded under (the outbox's ``template`` stays empty)."""

_TEXTS: dict[str, dict[str, str]] = {
    "de": {
        "subject": "Ihr Link zum Weitermachen: {title}",
        "before": "Guten Tag,\n\nIhre Angaben zum Formular „{title}“ sind gespeichert. "
                  "Mit diesem Link können Sie später dort weitermachen, wo Sie aufgehört haben:",
        "after": "Der Link gilt bis zum {expires}. Bitte geben Sie ihn nicht weiter: Wer ihn "
                 "hat, kann Ihre Angaben sehen und ändern.\n\nWenn Sie dieses Formular nicht "
                 "ausgefüllt haben, können Sie diese Nachricht einfach löschen.",
    },
    "en": {
        "subject": "Your link to continue: {title}",
        "before": "Hello,\n\nyour answers to the form “{title}” are saved. With this link you "
                  "can continue later where you left off:",
        "after": "The link works until {expires}. Please do not pass it on: anyone who has it "
                 "can see and change your answers.\n\nIf you did not fill in this form, you "
                 "can simply delete this message.",
    },
}



def resume_link_message(
    *, form_title: str, resume_url: str, expires_at: datetime, language: str, zone: tzinfo
) -> RenderedMessage:
    """The resume-link mail for one draft, ready for the mail channel; ``zone`` is the app's
    time zone, in which ``expires_at`` (a stored, aware moment) falls on the day named."""
    chosen = language if language in _TEXTS else "de"
    texts = _TEXTS[chosen]
    expires = format_date(expires_at.astimezone(zone).date(), "long", locale=chosen)
    before = texts["before"].format(title=form_title)
    after = texts["after"].format(expires=expires)
    link = Markup('<p><a href="{0}">{0}</a></p>').format(resume_url)
    return RenderedMessage(
        template=TEMPLATE_NAME,
        language=chosen,
        subject=texts["subject"].format(title=form_title),
        text=f"{before}\n\n{resume_url}\n\n{after}\n",
        html="\n".join((text_to_html(before), str(link), text_to_html(after))),
    )
