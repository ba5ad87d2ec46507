"""No resend when the answer to a message that has left never comes (issue 12, item 5).

A tiny SMTP server on a loopback socket that answers the final dot late, or drops the
connection after it; and loopback HTTP providers that sleep before answering. The
message may have been accepted, so it must be neither sent again nor failed over."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from flask import Flask

from commsvc import embedded_redis
from workers.gateways import sms_gateway
from workers.gateways.base import Outcome, SmsMessage
from workers.gateways.smtp import SmtpGateway

from .test_http_email import envelope

ROUND_SECONDS = 5  # every socket wait in the server is bounded


@dataclass
class TinySmtp:
    """Answers every command; after the final dot of message n it does `after_dot[n]`:
    "late" (sleep `late_seconds`, then 250), "drop" (close), or nothing (250)."""

    after_dot: dict[int, str] = field(default_factory=dict)
    late_seconds: float = 2.0
    pipelining: bool = True
    messages: list[bytes] = field(default_factory=list)  # every message whose dot arrived
    port: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def serve(self, listener: socket.socket) -> None:
        listener.settimeout(0.2)
        while not self.stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._session, args=(connection,), daemon=True).start()

    def _session(self, connection: socket.socket) -> None:
        connection.settimeout(ROUND_SECONDS)
        reader = connection.makefile("rb")
        try:
            connection.sendall(b"220 tiny ESMTP\r\n")
            while not self.stop.is_set():
                line = reader.readline()
                if not line:
                    return
                verb = line[:4].upper()
                if verb in (b"EHLO", b"HELO"):
                    extensions = b"250-PIPELINING\r\n" if self.pipelining else b""
                    connection.sendall(b"250-tiny\r\n" + extensions + b"250 8BITMIME\r\n")
                elif verb == b"DATA":
                    connection.sendall(b"354 go on\r\n")
                    body = b"".join(iter(lambda: reader.readline(), b".\r\n"))
                    self.messages.append(body)
                    then = self.after_dot.get(len(self.messages), "")
                    if then == "drop":
                        return
                    if then == "late":
                        time.sleep(self.late_seconds)
                    connection.sendall(b"250 queued\r\n")
                elif verb == b"QUIT":
                    connection.sendall(b"221 bye\r\n")
                    return
                else:
                    connection.sendall(b"250 ok\r\n")
        except OSError:
            return
        finally:
            reader.close()
            connection.close()


@pytest.fixture(params=["pipelining", "one command at a time"])
def tiny_smtp(request) -> Iterator[TinySmtp]:
    server = TinySmtp(pipelining=request.param == "pipelining", port=embedded_redis.free_port())
    listener = socket.create_server(("127.0.0.1", server.port))
    thread = threading.Thread(target=server.serve, args=(listener,), daemon=True)
    thread.start()
    yield server
    server.stop.set()
    thread.join(timeout=5)
    listener.close()


def recipients(server: TinySmtp) -> list[str]:
    found = []
    for body in server.messages:
        to = next(line for line in body.split(b"\r\n") if line.startswith(b"To:"))
        found.append(to.split(b":", 1)[1].strip().decode())
    return found


def test_a_late_reply_to_the_final_dot_is_unconfirmed_and_never_sent_again(tiny_smtp):
    tiny_smtp.after_dot = {2: "late"}
    tiny_smtp.late_seconds = 2.0
    gateway = SmtpGateway(tiny_smtp.url, data_timeout=0.5)  # the reply comes after 2 s
    first = gateway.send_one(envelope(1, "a@example.org"))
    late = gateway.send_one(envelope(2, "b@example.org"))
    third = gateway.send_one(envelope(3, "c@example.org"))
    gateway.close()
    assert first.outcome is Outcome.ACCEPTED and third.outcome is Outcome.ACCEPTED
    assert late.outcome is Outcome.UNCONFIRMED
    assert "outcome unknown" in (late.reason or "") and "not resent" in (late.reason or "")
    # b@ reached the server once: no reconnect-and-resend.
    assert recipients(tiny_smtp) == ["a@example.org", "b@example.org", "c@example.org"]


def test_a_reply_that_comes_within_the_data_timeout_is_accepted(tiny_smtp):
    """The final reply has its own, long timeout (RFC 5321: 10 minutes by default)."""
    tiny_smtp.after_dot = {1: "late"}
    tiny_smtp.late_seconds = 1.0
    gateway = SmtpGateway(tiny_smtp.url, data_timeout=4)
    result = gateway.send_one(envelope(1, "a@example.org"))
    gateway.close()
    assert result.outcome is Outcome.ACCEPTED
    assert SmtpGateway("smtp://127.0.0.1:25").data_timeout == 600


def test_a_connection_dropped_after_the_dot_is_unconfirmed_and_never_sent_again(tiny_smtp):
    tiny_smtp.after_dot = {1: "drop"}
    gateway = SmtpGateway(tiny_smtp.url)
    dropped = gateway.send_one(envelope(1, "a@example.org"))
    second = gateway.send_one(envelope(2, "b@example.org"))
    gateway.close()
    assert dropped.outcome is Outcome.UNCONFIRMED
    assert second.outcome is Outcome.ACCEPTED  # the next message gets a new connection
    assert recipients(tiny_smtp) == ["a@example.org", "b@example.org"]


def test_a_connection_closed_between_messages_is_reopened_and_the_message_sent_once(tiny_smtp):
    """Before the data, nothing can have been accepted: reconnecting is safe."""
    gateway = SmtpGateway(tiny_smtp.url)
    assert gateway.send_one(envelope(1, "a@example.org")).outcome is Outcome.ACCEPTED
    assert gateway._connection is not None
    gateway._connection.sock.shutdown(socket.SHUT_RDWR)  # as if the server timed us out
    assert gateway.send_one(envelope(2, "b@example.org")).outcome is Outcome.ACCEPTED
    gateway.close()
    assert recipients(tiny_smtp) == ["a@example.org", "b@example.org"]


def use_sms_url(app: Flask, url: str, timeout: float) -> None:
    app.config["COMMSVC_SMS_URL"] = url
    app.config["COMMSVC_SMS_RATE"] = 1000
    app.config["COMMSVC_HTTP_TIMEOUT_SECONDS"] = timeout


def test_an_http_read_timeout_does_not_fail_over_to_another_provider(app, loopback):
    def slow(received):
        time.sleep(1.5)  # past the client's read timeout: the provider may have accepted
        return 200, {"id": "slow-" + received.json()["reference"]}

    sleepy = loopback(slow)
    other = loopback(lambda r: (200, {"id": "other-" + r.json()["reference"]}))
    # All the weight on the sleepy provider, so it is tried first.
    use_sms_url(app, f"{sleepy.base}/send;weight=1000000,{other.base}/send;weight=1", 0.5)
    gateway = sms_gateway()
    result = gateway.send_one(SmsMessage(7, "+447911200007", "UNION", "x"))
    gateway.close()
    assert result.outcome is Outcome.UNCONFIRMED
    assert "outcome unknown" in (result.reason or "")
    assert len(sleepy.received) == 1 and other.received == []


def test_an_http_connect_error_fails_over(app, loopback):
    closed = f"http://127.0.0.1:{embedded_redis.free_port()}"  # nothing listens there
    other = loopback(lambda r: (200, {"id": "other-" + r.json()["reference"]}))
    use_sms_url(app, f"{closed}/send;weight=1000000,{other.base}/send;weight=1", 0.5)
    gateway = sms_gateway()
    result = gateway.send_one(SmsMessage(8, "+447911200008", "UNION", "x"))
    gateway.close()
    assert result.outcome is Outcome.ACCEPTED
    assert [r.json()["reference"] for r in other.received] == ["8"]
