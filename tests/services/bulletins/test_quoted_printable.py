"""A body encoded in pieces reads exactly as the text encoded whole, in lines a relay carries."""

from __future__ import annotations

import binascii
import random

import pytest

from commsvc.services.bulletins import quoted_printable

# What bulletins and members' names hold, and what quoted-printable must take care of:
# "=", spaces and tabs before a line end, dots, non-ASCII, long runs without a space.
ALPHABET = ["a", "b", " ", "\t", "=", ".", "\n", "\r\n", "£", "ŵ", "“", "é", "x" * 90, "=" * 30]


def _decoded(body: bytes) -> str:
    return binascii.a2b_qp(body).decode().replace("\r\n", "\n")


def _longest_line(body: bytes) -> int:
    return max(len(line) for line in body.split(b"\r\n"))


def test_pieces_read_exactly_as_the_text_encoded_whole():
    chance = random.Random(20261207)
    for _ in range(3000):
        text = "".join(chance.choice(ALPHABET) for _ in range(chance.randint(0, 60)))
        cuts = sorted(chance.sample(range(len(text) + 1), k=min(len(text) + 1, 5)))
        parts = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        pieces = [quoted_printable.piece(part) for part in parts]
        if any(piece is None for piece in pieces):
            continue  # a part ending in a CR: such a body is encoded whole
        body = quoted_printable.joined(piece for piece in pieces if piece is not None)
        whole = quoted_printable.encode(text)
        assert _decoded(body) == _decoded(whole) == text.replace("\r\n", "\n")
        assert body.isascii() and b"\n" not in body.replace(b"\r\n", b"")
        assert _longest_line(body) <= quoted_printable.MAX_LINE
        assert _longest_line(whole) <= quoted_printable.MAX_LINE  # binascii alone: up to 78


@pytest.mark.parametrize(
    "text", ["Dear ", "x" * 75, "y" * 76, "z" * 200, "£" * 30, "a=" * 40, "tab\t", "é" * 25 + " "]
)
def test_a_piece_ends_in_a_line_break_within_76_characters(text):
    piece = quoted_printable.piece(text)
    assert piece is not None and piece.endswith(quoted_printable.SOFT_BREAK)
    assert _longest_line(piece) <= quoted_printable.MAX_LINE
    assert _decoded(quoted_printable.joined([piece])) == text


def test_a_part_ending_in_a_carriage_return_is_left_to_the_whole_encoding():
    # "\r" then "\n" in the next part is one line break whole, two if encoded apart.
    assert quoted_printable.piece("Dear Alex,\r") is None
    assert _decoded(quoted_printable.encode("Dear Alex,\r\nThe offer")) == "Dear Alex,\nThe offer"


def test_whitespace_that_ends_the_body_stays_encoded():
    body = quoted_printable.joined([quoted_printable.piece("Dear "), quoted_printable.piece("Al ")])
    assert body.endswith(b"Al=20") and _decoded(body) == "Dear Al "
