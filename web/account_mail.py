"""Sending the set-password mails (reset, invitation) straight from the web app or the CLI.

These mails carry a secret that is stored only as a digest, so — unlike notifications — they
cannot go through the outbox for a worker to build later: the link exists only in the request
that made it. They are sent with the mail channel the worker uses (``workers.channels.mail``):
over ``FORMFLOW_SMTP_URL``, or, without it, written as ``.eml`` files into the instance's
``mail`` folder, in which case the caller is told (the CLI prints the link then).
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from flask import Flask

from engine.account_mail import account_link_message
from engine.services.account_links import IssuedLink
from web.i18n import display_zone
from web.notify import notification_environ
from workers.channels.base import MailMessage
from workers.channels.mail import MailChannel

__all__ = ["SentLink", "link_url", "send_link_mail"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SentLink:
    url: str
    to_file: bool
    """True: no SMTP server is set and the mail was written as a file."""


def link_url(app: Flask, issued: IssuedLink) -> str:
    """The address of the set-password page for ``issued``, under ``FORMFLOW_BASE_URL``."""
    base = str(app.config.get("BASE_URL") or "").rstrip("/")
    return f"{base}/password/set/{issued.token}"


def send_link_mail(app: Flask, issued: IssuedLink, language: str) -> SentLink:
    """Mail ``issued`` to its user; raises the channel's errors (SMTP down, bad config)."""
    url = link_url(app, issued)
    rendered = account_link_message(
        purpose=issued.record.purpose, email=issued.user.email, url=url,
        expires_at=issued.record.expires_at, language=language, zone=display_zone(),
    )
    channel = MailChannel()
    config = channel.config_from_environ(notification_environ(app), app.instance_path)
    message = MailMessage(f"account-{uuid.uuid4().hex}", issued.user.email, rendered.subject,
                          rendered.text, rendered.html, rendered.language)
    channel.send(message, config)
    return SentLink(url, not config.get("smtp_url"))
