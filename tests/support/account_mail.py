"""Set-password mails as the tests read them: from the instance's mail folder (no SMTP server
set) or from the SMTP sink, and the link in them."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

__all__ = ["link_in", "mail_files", "mails_to"]

LINK = re.compile(r"https?://\S+/password/set/[A-Za-z0-9_-]+")


def mail_files(instance_path: str | Path) -> list[EmailMessage]:
    """Every ``.eml`` the app wrote, oldest first."""
    folder = Path(instance_path) / "mail"
    mails = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        mail = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(mail, EmailMessage)
        mails.append(mail)
    return mails


def mails_to(instance_path: str | Path, address: str) -> list[EmailMessage]:
    return [m for m in mail_files(instance_path) if str(m["To"]).lower() == address.lower()]


def link_in(mail: EmailMessage) -> str:
    """The set-password link of ``mail`` (from its text part)."""
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None, "no text part"
    found = LINK.search(body.get_content())
    assert found, "no set-password link in the mail"
    return found.group(0)
