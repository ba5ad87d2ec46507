"""Quoted-printable bodies (RFC 2045 6.7), encoded whole or from pieces encoded once.

Every email body goes out as UTF-8 in quoted-printable: seven-bit lines of at most 76
characters that any relay carries unchanged, so a DKIM signature survives. On the send
path the encoding cost more than rendering: a body is mostly the bulletin's own text
and layout, the same for every member, around a few values of their own. A soft line
break may go anywhere, so a body can be encoded in pieces, each ending in a line break
of its own: the text between the values once per bulletin, each member's values per
message. Decoded, the joined pieces are exactly the text encoded whole.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable

CRLF = b"\r\n"
SOFT_BREAK = b"=\r\n"
MAX_LINE = 76  # characters, the soft break's "=" included
_ENCODED_WHITESPACE = {b"=20": b" ", b"=09": b"\t"}
_WHITESPACE_ENCODED = {b" ": b"=20", b"\t": b"=09"}


def encode(text: str) -> bytes:
    """UTF-8, quoted-printable, CRLF line ends: the whole of one body."""
    return _encoded(_normalised(text)).replace(b"\n", CRLF)


def piece(text: str) -> bytes | None:
    """`text` encoded to go before another piece: ending in a line break, its own or a
    soft one. None if it ends in a CR, which may pair with a LF the next piece starts
    with (encode such a body whole)."""
    if not text:
        return b""
    if text.endswith("\r"):
        return None
    if text.isascii() and text.isprintable() and "=" not in text:  # a name, a link
        lines = [text[n : n + MAX_LINE - 1] for n in range(0, len(text), MAX_LINE - 1)]
        return "=\r\n".join(lines).encode() + SOFT_BREAK
    encoded = _encoded(_normalised(text))
    if encoded.endswith(b"\n"):
        return encoded.replace(b"\n", CRLF)
    # Whitespace at the end of the input was encoded as ending a line; it no longer
    # does once a soft break follows it, and plain is what a whole encoding would give.
    tail = _ENCODED_WHITESPACE.get(encoded[-3:])
    if tail is not None:
        encoded = encoded[:-3] + tail
    start = encoded.rfind(b"\n") + 1
    if len(encoded) - start >= MAX_LINE:  # no room left for the "=": break it earlier
        encoded = encoded[:start] + _broken(encoded[start:])
    return encoded.replace(b"\n", CRLF) + SOFT_BREAK


def joined(pieces: Iterable[bytes]) -> bytes:
    """Pieces as one body: the last soft break has nothing to join, so it goes, and
    whitespace left ending the body's last line is encoded again."""
    body = b"".join(pieces)
    if not body.endswith(SOFT_BREAK):
        return body
    body = body[: -len(SOFT_BREAK)]
    encoded = _WHITESPACE_ENCODED.get(body[-1:])
    return body[:-1] + encoded if encoded is not None else body


def _normalised(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _encoded(text: str) -> bytes:
    encoded = binascii.b2a_qp(text.encode(), quotetabs=False, istext=True)
    if b"=20" not in encoded and b"=09" not in encoded:
        return encoded
    # binascii lets a line run to 78 when it ends in encoded whitespace: break those.
    return b"\n".join(
        _broken(line) if len(line) > MAX_LINE else line for line in encoded.split(b"\n")
    )


def _broken(line: bytes) -> bytes:
    """A line with a soft break within its first 74 characters, never inside an escape."""
    cut = MAX_LINE - 3
    if line[cut - 1 : cut] == b"=":
        cut -= 1
    elif line[cut - 2 : cut - 1] == b"=":
        cut -= 2
    return line[:cut] + b"=\n" + line[cut:]
