"""SMTP replies read straight from the socket, for the send path's every message.

smtplib reads a reply a line at a time through a file object, with its checks per
line; a batch reads four replies per message (three of them pipelined, RFC 2920,
usually arriving in one segment). This reader keeps its own buffer: one `recv` takes
what is there, and the lines are split from it. Replies are what RFC 5321 4.2.1 says:
lines `NNN-text` continued until a line `NNN text` (or `NNN` alone) ends the reply.
It answers as smtplib's `getreply` does (the code, and the lines' text joined by
newlines; -1 for a code that is not a number), and raises as it does (the connection
closed, a line too long), so outcomes are decided in one place (smtp.py). It only
reads: commands go out through the connection.
"""

from __future__ import annotations

import smtplib
import socket

MAX_LINE = 8192  # as smtplib: a longer line is not an SMTP reply
_RECV_BYTES = 65536


class ReplyReader:
    """The replies arriving on one connection's socket, in order."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = b""

    def read(self) -> tuple[int, bytes]:
        """The next whole reply: (code, text). A timeout or a reset raises OSError."""
        lines: list[bytes] = []
        while True:
            line = self._line()
            lines.append(line[4:].strip(b" \t\r\n"))
            digits = line[:3]
            if not digits.isdigit():
                return -1, b"\n".join(lines)
            if line[3:4] != b"-":
                return int(digits), b"\n".join(lines)

    def _line(self) -> bytes:
        while (end := self._buffer.find(b"\n", 0, MAX_LINE)) < 0:
            if len(self._buffer) >= MAX_LINE:
                raise smtplib.SMTPResponseException(500, b"Line too long.")
            chunk = self._sock.recv(_RECV_BYTES)
            if not chunk:
                raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
            self._buffer += chunk
        line, self._buffer = self._buffer[: end + 1], self._buffer[end + 1 :]
        return line
