"""The ``mail`` channel: a multipart text + HTML mail, over SMTP or into ``.eml`` files.

Without ``FORMFLOW_SMTP_URL`` nothing leaves the machine: each mail is written to
``<instance>/mail/<timestamp>-<delivery key>.eml`` (write to a temporary name, then rename, so a
reader never sees half a mail), which is what a developer running ``make run`` wants to open.

The ``Message-ID`` is derived from the outbox row's delivery key, never random: if a worker
crashes after the SMTP server accepted a mail but before the outbox row was marked sent, the
resend carries the same id and mail systems can recognise the duplicate.

SMTP URLs: ``smtp://user:pass@host:port`` (plain, port 25), ``smtps://…`` (implicit TLS, port
465) and ``smtp+starttls://…`` (STARTTLS required, port 587). User and password are
percent-decoded; they never appear in an error message.
"""

from __future__ import annotations

import base64
import os
import re
import smtplib
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import cache
from hashlib import sha256
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote, urlsplit

from markupsafe import escape

from workers.channels.base import DeliveryReceipt, MailMessage, check_config
from workers.exceptions import (
    ChannelConfigError,
    PermanentDeliveryError,
    TransientDeliveryError,
)

__all__ = [
    "DEFAULT_MAIL_FROM",
    "MailChannel",
    "SmtpSettings",
    "build_mail",
    "message_id_for",
    "tls_context",
    "write_eml",
]

DEFAULT_MAIL_FROM = "formflow@localhost"
DEFAULT_SMTP_TIMEOUT = 30.0
_SAFE_KEY = re.compile(r"^[A-Za-z0-9._+-]{1,48}$")
"""Short enough that ``Message-ID: <key@formflow>`` fits a 78-character line unfolded."""
_DEFAULT_PORTS = {"smtp": 25, "smtps": 465, "smtp+starttls": 587}


def _safe_key(delivery_id: str) -> str:
    """The key itself when it is short and safe in a Message-ID and a file name, else a digest."""
    if _SAFE_KEY.match(delivery_id):
        return delivery_id
    return sha256(delivery_id.encode("utf-8")).hexdigest()[:40]


def message_id_for(delivery_id: str) -> str:
    """The stable ``Message-ID`` of the mail an outbox row with ``delivery_id`` sends."""
    return f"<{_safe_key(delivery_id)}@formflow>"


def _html_document(fragment: str, language: str, subject: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(language)}">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(subject)}</title>\n</head>\n<body>\n{fragment}\n</body>\n</html>\n"
    )


def build_mail(
    message: MailMessage, mail_from: str, *, now: datetime | None = None
) -> EmailMessage:
    """The ``multipart/alternative`` mail (UTF-8 text, then HTML) for ``message``.

    Raises :class:`PermanentDeliveryError` for an address no mail server could accept
    (no ``@``, a line break smuggled into a header).
    """
    for role, address in (("recipient", message.to), ("sender", mail_from)):
        _name, spec = parseaddr(address)
        if "@" not in spec or any(c in address for c in "\r\n"):
            raise PermanentDeliveryError(f"invalid {role} address {address!r}")
    mail = EmailMessage()
    try:
        mail["Subject"] = message.subject
        mail["From"] = mail_from
        mail["To"] = message.to
        mail["Date"] = format_datetime(now or datetime.now(UTC))
        mail["Message-ID"] = message_id_for(message.delivery_id)
        mail["X-Formflow-Delivery"] = message.delivery_id  # as a webhook's header
        mail["Auto-Submitted"] = "auto-generated"
        mail["Content-Language"] = message.language
    except ValueError as exc:
        raise PermanentDeliveryError(f"cannot build the mail headers: {exc}") from None
    # quoted-printable keeps every line 7-bit, so no SMTP server needs 8BITMIME for umlauts.
    mail.set_content(message.text, subtype="plain", charset="utf-8", cte="quoted-printable")
    mail.add_alternative(
        _html_document(message.html, message.language, message.subject),
        subtype="html", charset="utf-8", cte="quoted-printable",
    )
    return mail


def write_eml(mail: EmailMessage, mail_dir: Path, delivery_id: str,
              *, now: datetime | None = None) -> Path:
    """Write ``mail`` as ``<mail_dir>/<UTC timestamp>-<key>.eml`` atomically; return the path."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    target = mail_dir / f"{stamp}-{_safe_key(delivery_id)}.eml"
    mail_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # mails carry personal data
    # mkstemp makes the file 0600, and the rename keeps that mode
    descriptor, temporary = tempfile.mkstemp(dir=mail_dir, prefix=".", suffix=".eml.tmp")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(bytes(mail))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    scheme: str
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_SMTP_TIMEOUT

    @classmethod
    def from_url(cls, url: str, timeout: float = DEFAULT_SMTP_TIMEOUT) -> SmtpSettings:
        """Parse ``FORMFLOW_SMTP_URL``; :class:`ChannelConfigError` names what is wrong."""
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError:
            raise ChannelConfigError("FORMFLOW_SMTP_URL is not a valid URL "
                                     "(expected smtp://user:pass@host:port)") from None
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise ChannelConfigError(
                f"FORMFLOW_SMTP_URL scheme {parts.scheme!r} is not supported "
                "(use smtp://, smtps:// or smtp+starttls://)"
            )
        if not parts.hostname:
            raise ChannelConfigError("FORMFLOW_SMTP_URL names no host "
                                     "(expected smtp://user:pass@host:port)")
        return cls(
            scheme=scheme,
            host=parts.hostname,
            port=port or _DEFAULT_PORTS[scheme],
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            timeout=timeout,
        )

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


@cache
def tls_context() -> ssl.SSLContext:
    """The verifying TLS context, built once per process and only when TLS is used: loading
    the system's CA certificates takes tens of milliseconds, longer than sending a mail."""
    return ssl.create_default_context()


class _Session:
    """One open SMTP connection of this process, reused while it is young and answers."""

    MAX_AGE = 60.0
    """Seconds a connection is reused; servers drop idle ones and should not be held long."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._client: smtplib.SMTP | None = None
        self._key: tuple[object, ...] = ()
        self._opened = 0.0

    @contextmanager
    def client(self, settings: SmtpSettings) -> Iterator[smtplib.SMTP]:
        """A logged-in client for ``settings``; closed and forgotten if anything goes wrong.

        Reused only after a NOOP answered 250, so a connection the server has closed costs
        one round trip and a reconnect, never a lost message. Never shared across a fork.
        """
        with self._lock:
            key = (os.getpid(), settings)
            client = self._take(key)
            if client is None:
                client = _connect(settings)
                self._opened = time.monotonic()
            self._client, self._key = None, key
            try:
                yield client
            except BaseException:
                _close(client)
                raise
            self._client = client

    def _take(self, key: tuple[object, ...]) -> smtplib.SMTP | None:
        client, self._client = self._client, None
        if client is None:
            return None
        if key[0] != self._key[0]:
            return None  # inherited through fork(): the parent's socket, not ours to close
        fresh = key == self._key and time.monotonic() - self._opened < self.MAX_AGE
        try:
            if fresh and client.noop()[0] == 250:
                return client
        except (smtplib.SMTPException, OSError):
            pass
        _close(client)
        return None


_session = _Session()


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    client: smtplib.SMTP
    if settings.scheme == "smtps":
        client = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                  context=tls_context())
    else:
        client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    try:
        client.ehlo_or_helo_if_needed()
        if settings.scheme == "smtp+starttls":
            client.starttls(context=tls_context())
            client.ehlo()
        if settings.username:
            _login(client, settings.username, settings.password or "")
    except BaseException:
        _close(client)
        raise
    return client


def _close(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


def send_smtp(mail: EmailMessage, settings: SmtpSettings, mail_from: str, to: str) -> str:
    """Hand ``mail`` to the SMTP server; the server's failures sorted into transient/permanent.

    The connection stays open for the next mail of this process (a worker delivers one after
    another): connecting, greeting and saying goodbye cost more than sending.
    """
    where = settings.address
    try:
        with _session.client(settings) as client:
            # The envelope takes bare addresses: a display name ("Jörg Müller <…>") would make
            # smtplib demand SMTPUTF8 and send the headers as raw UTF-8.
            client.send_message(mail, from_addr=parseaddr(mail_from)[1],
                                to_addrs=[parseaddr(to)[1]])
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        text = "; ".join(f"{code} {_decode(reply)}" for code, reply in exc.recipients.values())
        error = f"SMTP server {where} refused recipient {to}: {text}"
        if codes and all(code >= 500 for code in codes):
            raise PermanentDeliveryError(error) from None
        raise TransientDeliveryError(error) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise PermanentDeliveryError(f"SMTP server {where} refused the login: "
                                     f"{exc.smtp_code} {_decode(exc.smtp_error)}") from None
    except smtplib.SMTPResponseException as exc:
        error = f"SMTP server {where} answered {exc.smtp_code} {_decode(exc.smtp_error)}"
        if exc.smtp_code >= 500:
            raise PermanentDeliveryError(error) from None
        raise TransientDeliveryError(error) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise PermanentDeliveryError(f"SMTP server {where} does not support what the "
                                     f"configuration asks for: {exc}") from None
    except ssl.SSLCertVerificationError as exc:
        raise PermanentDeliveryError(f"SMTP server {where}: TLS certificate not trusted "
                                     f"({exc.verify_message})") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise TransientDeliveryError(
            f"SMTP server {where} unreachable: {exc or type(exc).__name__}"
        ) from None
    return f"accepted by SMTP server {where}"


def _login(client: smtplib.SMTP, username: str, password: str) -> None:
    """``client.login``, plus AUTH PLAIN in UTF-8 for credentials beyond ASCII.

    smtplib encodes credentials as ASCII and raises ``UnicodeEncodeError`` for a password
    like ``päss``; RFC 4616 defines PLAIN over UTF-8, so that case is spoken by hand.
    """
    if (username + password).isascii():
        client.login(username, password)
        return
    if not client.has_extn("auth") or "PLAIN" not in client.esmtp_features["auth"].upper():
        raise smtplib.SMTPNotSupportedError(
            "credentials beyond ASCII need AUTH PLAIN, which the server does not offer"
        )
    token = base64.b64encode(f"\0{username}\0{password}".encode()).decode("ascii")
    code, reply = client.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, reply)


def _decode(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


class MailChannel:
    """Mail to one recipient; SMTP when ``smtp_url`` is configured, else an ``.eml`` file."""

    type: ClassVar[str] = "mail"
    config_schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "required": ["mail_from"],
        "additionalProperties": False,
        "properties": {
            "mail_from": {"type": "string", "minLength": 3,
                          "description": f"FORMFLOW_MAIL_FROM, default {DEFAULT_MAIL_FROM}"},
            "smtp_url": {"type": ["string", "null"],
                         "description": "FORMFLOW_SMTP_URL; unset: mails are written as files"},
            "mail_dir": {"type": ["string", "null"],
                         "description": "folder for .eml files: <instance>/mail"},
            "timeout": {"type": "number", "exclusiveMinimum": 0,
                        "description": "FORMFLOW_SMTP_TIMEOUT in seconds, default 30"},
        },
    }

    def config_from_environ(self, environ: Mapping[str, str], instance_path: str) -> dict[str, Any]:
        raw_timeout = environ.get("FORMFLOW_SMTP_TIMEOUT") or str(DEFAULT_SMTP_TIMEOUT)
        try:
            timeout = float(raw_timeout)
        except ValueError:
            raise ChannelConfigError(
                f"FORMFLOW_SMTP_TIMEOUT must be a number of seconds, not {raw_timeout!r}"
            ) from None
        smtp_url = environ.get("FORMFLOW_SMTP_URL") or None
        if smtp_url:
            SmtpSettings.from_url(smtp_url, timeout)  # refuse a bad URL when the worker starts
        return {
            "mail_from": environ.get("FORMFLOW_MAIL_FROM") or DEFAULT_MAIL_FROM,
            "smtp_url": smtp_url,
            "mail_dir": str(Path(instance_path) / "mail"),
            "timeout": timeout,
        }

    def send(self, message: Any, config: Mapping[str, Any]) -> DeliveryReceipt:
        if not isinstance(message, MailMessage):
            raise TypeError(f"the mail channel sends MailMessage, not {type(message).__name__}")
        check_config(self, config)
        mail_from = str(config["mail_from"])
        mail = build_mail(message, mail_from)
        message_id = str(mail["Message-ID"])
        smtp_url = config.get("smtp_url")
        if smtp_url:
            settings = SmtpSettings.from_url(
                str(smtp_url), float(config.get("timeout", DEFAULT_SMTP_TIMEOUT))
            )
            detail = send_smtp(mail, settings, mail_from, message.to)
            return DeliveryReceipt(self.type, message.delivery_id, detail, message_id)
        mail_dir = config.get("mail_dir")
        if not mail_dir:
            raise ChannelConfigError("mail channel configuration: neither smtp_url nor mail_dir")
        try:
            path = write_eml(mail, Path(str(mail_dir)), message.delivery_id)
        except OSError as exc:
            raise TransientDeliveryError(f"cannot write mail file in {mail_dir}: "
                                         f"{exc.strerror or exc}") from None
        return DeliveryReceipt(self.type, message.delivery_id, f"written to {path}",
                               message_id, {"path": str(path)})
