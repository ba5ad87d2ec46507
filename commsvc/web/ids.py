"""Reading a record's id from a form field or query value.

`str.isdigit()` also accepts '²' and '١', which `int()` refuses or reads otherwise, and
any length, which no integer column holds: an id is 1 to 9 ASCII digits, else None,
so odd input is "not found" or "no choice", never a 500.
"""

from __future__ import annotations

MAX_DIGITS = 9


def parse_id(text: str | None) -> int | None:
    if text is None or not text.isascii() or not text.isdigit() or len(text) > MAX_DIGITS:
        return None
    return int(text)
