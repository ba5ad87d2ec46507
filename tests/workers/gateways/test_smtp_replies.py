"""The SMTP reply reader against a real loopback socket that answers as scripted."""

from __future__ import annotations

import smtplib
import socket
import threading
from collections.abc import Iterator

import pytest

from workers.gateways.smtp_replies import MAX_LINE, ReplyReader


class ScriptedServer:
    """A loopback TCP server that sends the given byte chunks, one send each, then
    closes the connection."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.chunks = chunks
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        connection, _ = self.listener.accept()
        with connection:
            for chunk in self.chunks:
                connection.sendall(chunk)
                threading.Event().wait(0.01)  # separate segments, as a slow server's

    def connect(self) -> socket.socket:
        self.thread.start()
        return socket.create_connection(self.listener.getsockname(), timeout=5)


@pytest.fixture
def reader_of() -> Iterator[object]:
    opened: list[tuple[ScriptedServer, socket.socket]] = []

    def make(*chunks: bytes) -> ReplyReader:
        server = ScriptedServer(list(chunks))
        sock = server.connect()
        opened.append((server, sock))
        return ReplyReader(sock)

    yield make
    for server, sock in opened:
        sock.close()
        server.thread.join(timeout=5)
        server.listener.close()


def test_pipelined_replies_arriving_together_are_read_one_by_one(reader_of):
    reader = reader_of(b"250 2.1.0 Ok\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n")
    assert reader.read() == (250, b"2.1.0 Ok")
    assert reader.read() == (250, b"2.1.5 Ok")
    assert reader.read() == (354, b"End data with <CR><LF>.<CR><LF>")


def test_a_multi_line_reply_is_one_reply_with_every_line(reader_of):
    reader = reader_of(
        b"550-5.1.1 The email account that you tried to reach does not exist.\r\n"
        b"550-5.1.1 Please try double-checking the recipient's address\r\n"
        b"550 5.1.1 for typos.\r\n250 2.0.0 Ok\r\n"
    )
    code, text = reader.read()
    assert code == 550
    assert text.split(b"\n") == [
        b"5.1.1 The email account that you tried to reach does not exist.",
        b"5.1.1 Please try double-checking the recipient's address",
        b"5.1.1 for typos.",
    ]
    assert reader.read() == (250, b"2.0.0 Ok")  # the next reply is not swallowed


def test_a_reply_split_across_segments_is_put_back_together(reader_of):
    reader = reader_of(b"45", b"1-4.3.0 Try again", b" later\r\n451 4.3.0 Busy\r", b"\n")
    assert reader.read() == (451, b"4.3.0 Try again later\n4.3.0 Busy")


def test_a_code_alone_on_its_line_and_a_code_that_is_not_a_number(reader_of):
    reader = reader_of(b"250\r\nabc nonsense\r\n")
    assert reader.read() == (250, b"")
    assert reader.read() == (-1, b"nonsense")


def test_a_closed_connection_before_the_reply_raises_disconnected(reader_of):
    reader = reader_of(b"250 Ok\r\n", b"250-first line only\r\n")
    assert reader.read() == (250, b"Ok")
    with pytest.raises(smtplib.SMTPServerDisconnected):
        reader.read()


def test_a_line_longer_than_smtp_allows_is_refused(reader_of):
    reader = reader_of(b"250 " + b"x" * MAX_LINE + b"\r\n")
    with pytest.raises(smtplib.SMTPResponseException) as refused:
        reader.read()
    assert refused.value.smtp_code == 500
