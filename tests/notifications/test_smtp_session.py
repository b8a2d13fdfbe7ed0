"""A worker keeps its SMTP connection open between mails — and never loses a mail to a
connection the server has dropped meanwhile (a real aiosmtpd server, stopped and restarted)."""

from __future__ import annotations

from typing import Any

import pytest

from support.notifications import MailSink
from workers.channels.base import MailMessage
from workers.channels.mail import SmtpSettings, build_mail, send_smtp
from workers.exceptions import TransientDeliveryError


class CountingSink(MailSink):
    """Records each mail's recipient and the client port it came from (one per connection)."""

    def __init__(self) -> None:
        super().__init__()
        self.received: list[tuple[int, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.received.extend((int(session.peer[1]), to) for to in envelope.rcpt_tos)
        return "250 OK"


@pytest.fixture
def sink() -> Any:
    server = CountingSink()
    server.start()
    yield server
    server.stop()


def send(settings: SmtpSettings, number: int) -> str:
    message = MailMessage(f"key-{number}", f"person{number}@example.org", "Betreff", "Text", "")
    return send_smtp(build_mail(message, "formflow@example.org"), settings,
                     "formflow@example.org", message.to)


def test_mails_of_one_process_share_a_connection_until_the_server_drops_it(
    sink: CountingSink,
) -> None:
    settings = SmtpSettings.from_url(f"smtp://127.0.0.1:{sink.port}", 5.0)
    for number in range(3):
        assert send(settings, number).startswith("accepted by SMTP server")
    ports = {port for port, _to in sink.received}
    assert len(sink.received) == 3 and len(ports) == 1, "one connection for all three"

    sink.stop()  # the server goes away: the open connection is dead
    with pytest.raises(TransientDeliveryError, match="unreachable"):
        send(settings, 3)
    sink.start()  # back on the same port
    assert send(settings, 4).startswith("accepted")
    assert send(settings, 5).startswith("accepted")
    assert [to for _port, to in sink.received] == [
        f"person{n}@example.org" for n in (0, 1, 2, 4, 5)
    ]
    later_ports = {port for port, _to in sink.received[3:]}
    assert len(later_ports) == 1 and later_ports.isdisjoint(ports), "a fresh, reused connection"

    sink.stop()
    sink.start()  # restarted while the worker was idle: its connection is stale, not broken
    assert send(settings, 6).startswith("accepted"), "NOOP notices, a new connection sends"
    assert sink.received[-1][1] == "person6@example.org"
    assert sink.received[-1][0] not in later_ports
