"""The mail channel against a real SMTP server (aiosmtpd) and as ``.eml`` files."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword

from workers.channels import MailMessage, configs_from_environ, get_channel
from workers.channels.mail import SmtpSettings
from workers.exceptions import (
    ChannelConfigError,
    PermanentDeliveryError,
    TransientDeliveryError,
)

MESSAGE = MailMessage(
    delivery_id="k3y-0001",
    to="Jörg Müller <joerg@example.org>",
    subject="Eingang M-2026-00042: Prüfung für Müller",
    text="Hallo Jörg,\n\nwir haben Ihren Antrag über 100 € erhalten.",
    html="<p>Hallo J&ouml;rg,</p>\n<p>wir haben Ihren Antrag über 100 € erhalten.</p>",
    language="de",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Sink:
    """An SMTP receiver that keeps what it got and answers RCPT as the test says."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.rcpt_reply: str | None = None
        self.logins: list[tuple[bytes, bytes]] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                     auth_data: Any) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        ok = (auth_data.login, auth_data.password) == (b"fo@rm", "päss:w".encode())
        return AuthResult(success=ok, handled=False)

    def received(self, index: int = -1) -> EmailMessage:
        content = self.envelopes[index].content
        assert isinstance(content, bytes)
        parsed = email.message_from_bytes(content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        return parsed


@pytest.fixture
def smtp() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port,
                            authenticator=sink.authenticate, auth_require_tls=False)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def mail_config(**overrides: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"mail_from": "formflow@verein.example", "smtp_url": None,
                              "mail_dir": None, "timeout": 5.0}
    config.update(overrides)
    return config


def test_smtp_delivers_multipart_utf8_with_stable_message_id(smtp: tuple[Sink, int]) -> None:
    sink, port = smtp
    channel = get_channel("mail")
    config = mail_config(smtp_url=f"smtp://127.0.0.1:{port}")
    receipt = channel.send(MESSAGE, config)
    channel.send(MESSAGE, config)  # a resend of the same outbox row

    assert len(sink.envelopes) == 2
    envelope = sink.envelopes[0]
    assert envelope.mail_from == "formflow@verein.example"
    assert envelope.rcpt_tos == ["joerg@example.org"]
    first, second = sink.received(0), sink.received(1)
    assert first.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in first.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in first.iter_parts())
    assert str(first["Subject"]) == "Eingang M-2026-00042: Prüfung für Müller"
    assert str(first["To"]) == "Jörg Müller <joerg@example.org>"
    plain = first.get_body(("plain",))
    html = first.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().replace("\r\n", "\n").rstrip("\n") == MESSAGE.text
    assert "wir haben Ihren Antrag über 100 € erhalten." in html.get_content()
    assert '<html lang="de">' in html.get_content()
    # Stable id: derived from the delivery key, identical on the resend.
    assert first["Message-ID"] == second["Message-ID"] == "<k3y-0001@formflow>"
    assert receipt.message_id == "<k3y-0001@formflow>"
    assert receipt.delivery_id == "k3y-0001"
    assert f"127.0.0.1:{port}" in receipt.detail
    # Every line is 7-bit on the wire (quoted-printable), so no 8BITMIME is needed.
    assert all(b < 128 for b in envelope.original_content or b"")


def test_smtp_login_with_percent_encoded_credentials(smtp: tuple[Sink, int]) -> None:
    sink, port = smtp
    channel = get_channel("mail")
    channel.send(MESSAGE, mail_config(
        smtp_url=f"smtp://fo%40rm:p%C3%A4ss%3Aw@127.0.0.1:{port}",
        mail_from="Förderverein <formflow@verein.example>",
    ))
    assert sink.logins == [(b"fo@rm", "päss:w".encode())]
    [envelope] = sink.envelopes
    assert envelope.mail_from == "formflow@verein.example"  # bare address on the envelope
    assert str(sink.received()["From"]) == "Förderverein <formflow@verein.example>"


def test_smtp_login_refused_is_permanent_and_hides_password(smtp: tuple[Sink, int]) -> None:
    sink, port = smtp
    with pytest.raises(PermanentDeliveryError) as caught:
        get_channel("mail").send(
            MESSAGE, mail_config(smtp_url=f"smtp://fo%40rm:wrongpass@127.0.0.1:{port}"))
    assert "refused the login" in str(caught.value)
    assert "wrongpass" not in str(caught.value)
    assert sink.envelopes == []


@pytest.mark.parametrize(("reply", "error"), [
    ("550 5.1.1 No such user here", PermanentDeliveryError),
    ("451 4.3.0 Try again later", TransientDeliveryError),
])
def test_refused_recipient_is_permanent_for_5xx_and_transient_for_4xx(
    smtp: tuple[Sink, int], reply: str, error: type[Exception]
) -> None:
    sink, port = smtp
    sink.rcpt_reply = reply
    with pytest.raises(error) as caught:
        get_channel("mail").send(MESSAGE, mail_config(smtp_url=f"smtp://127.0.0.1:{port}"))
    assert reply.split()[0] in str(caught.value)
    assert sink.envelopes == []


def test_unreachable_smtp_server_is_transient() -> None:
    port = free_port()  # nothing listens there any more
    with pytest.raises(TransientDeliveryError, match=f"127.0.0.1:{port} unreachable"):
        get_channel("mail").send(MESSAGE, mail_config(smtp_url=f"smtp://127.0.0.1:{port}"))


def test_without_smtp_mail_is_written_as_eml_file(tmp_path: Path) -> None:
    mail_dir = tmp_path / "instance" / "mail"
    channel = get_channel("mail")
    receipt = channel.send(MESSAGE, mail_config(mail_dir=str(mail_dir)))
    channel.send(MESSAGE, mail_config(mail_dir=str(mail_dir)))

    files = sorted(mail_dir.iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]  # no temporary files left behind
    assert all(f.name.endswith("-k3y-0001.eml") for f in files)
    assert receipt.extra["path"] in {str(f) for f in files}
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=default_policy)
    assert isinstance(parsed, EmailMessage)
    assert parsed["Message-ID"] == "<k3y-0001@formflow>"
    assert str(parsed["Subject"]) == MESSAGE.subject
    plain = parsed.get_body(("plain",))
    assert plain is not None and "Jörg" in plain.get_content()


def test_unsafe_delivery_id_is_hashed_for_message_id_and_file_name(tmp_path: Path) -> None:
    odd = MailMessage(delivery_id="a/b c@d", to="x@example.org", subject="s", text="t",
                      html="<p>t</p>")
    receipt = get_channel("mail").send(odd, mail_config(mail_dir=str(tmp_path)))
    [written] = tmp_path.iterdir()
    assert "/" not in written.name[:-4] and " " not in written.name
    assert receipt.message_id is not None
    assert receipt.message_id.endswith("@formflow>") and " " not in receipt.message_id


@pytest.mark.parametrize("to", ["no-address", "a@example.org\r\nBcc: evil@example.org"])
def test_invalid_recipient_is_permanent(tmp_path: Path, to: str) -> None:
    bad = MailMessage(delivery_id="k", to=to, subject="s", text="t", html="t")
    with pytest.raises(PermanentDeliveryError, match="invalid recipient address"):
        get_channel("mail").send(bad, mail_config(mail_dir=str(tmp_path)))
    assert list(tmp_path.iterdir()) == []


def test_config_from_environment_defaults_and_errors(tmp_path: Path) -> None:
    configs = configs_from_environ({}, tmp_path)
    assert configs["mail"] == {"mail_from": "formflow@localhost", "smtp_url": None,
                               "mail_dir": str(tmp_path / "mail"), "timeout": 30.0}
    assert configs["webhook"] == {"timeout": 10.0, "allow": [], "https_only": False}
    env = {"FORMFLOW_SMTP_URL": "smtps://u:p@mail.example.org", "FORMFLOW_MAIL_FROM": "a@b.c",
           "FORMFLOW_WEBHOOK_TIMEOUT": "2.5"}
    configs = configs_from_environ(env, tmp_path)
    assert configs["mail"]["smtp_url"] == "smtps://u:p@mail.example.org"
    assert configs["webhook"]["timeout"] == 2.5
    with pytest.raises(ChannelConfigError, match="scheme 'http' is not supported"):
        configs_from_environ({"FORMFLOW_SMTP_URL": "http://mail.example.org"}, tmp_path)
    with pytest.raises(ChannelConfigError, match="FORMFLOW_SMTP_TIMEOUT must be a number"):
        configs_from_environ({"FORMFLOW_SMTP_TIMEOUT": "soon"}, tmp_path)
    with pytest.raises(ChannelConfigError, match="timeout"):
        get_channel("mail").send(MESSAGE, mail_config(timeout=-1, mail_dir=str(tmp_path)))


def test_smtp_url_forms() -> None:
    assert SmtpSettings.from_url("smtps://mail.example.org").port == 465
    starttls = SmtpSettings.from_url("smtp+starttls://u%20x:p@mail.example.org")
    assert (starttls.port, starttls.username, starttls.password) == (587, "u x", "p")
    assert SmtpSettings.from_url("smtp://localhost").port == 25
    assert "secretpw" not in repr(SmtpSettings.from_url("smtp://u:secretpw@h"))
    with pytest.raises(ChannelConfigError, match="names no host"):
        SmtpSettings.from_url("smtp://")
