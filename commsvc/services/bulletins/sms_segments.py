"""How many SMS segments a text takes, and in which encoding: the one place for the rules.

A text that uses only the GSM 03.38 alphabet goes as GSM-7: 160 characters in one
segment, 153 per segment when it needs several; the extension characters (^{}\\[~]|€
and form feed) take two. Anything else (a Welsh ŵ, an emoji, a curly quote) makes the
whole text UCS-2: 70 in one segment, 67 per segment after that, an emoji counting
two. The admin's live counter asks the server (commsvc/static/compose.js), so these
rules are never written twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from commsvc.errors import ValidationError

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")
WARN_SEGMENTS = 3  # past this, the compose page warns (each segment is billed)
MAX_SEGMENTS = 10  # past this, the bulletin cannot be saved

_LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class SmsCount:
    encoding: str  # "GSM-7" or "UCS-2"
    characters: int  # what a person would count
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int
    per_segment: int
    warning: str | None

    def as_json(self) -> dict[str, object]:
        return {
            "encoding": self.encoding,
            "characters": self.characters,
            "units": self.units,
            "segments": self.segments,
            "per_segment": self.per_segment,
            "warning": self.warning,
        }


def count(text: str) -> SmsCount:
    """Encoding, length and segments of a text exactly as it will be sent."""
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        encoding = "GSM-7"
        units = sum(2 if c in GSM7_EXTENSION else 1 for c in text)
    else:
        encoding = "UCS-2"
        units = len(text.encode("utf-16-le")) // 2
    single, multi = _LIMITS[encoding]
    segments = 1 if units <= single else math.ceil(units / multi)
    return SmsCount(
        encoding=encoding,
        characters=len(text),
        units=units,
        segments=segments,
        per_segment=single if segments == 1 else multi,
        warning=_warning(encoding, segments, text),
    )


def check_limit(text: str) -> SmsCount:
    """Refuse a text longer than MAX_SEGMENTS; otherwise return its count."""
    counted = count(text)
    if counted.segments > MAX_SEGMENTS:
        raise ValidationError(
            f"The SMS would take {counted.segments} segments ({counted.encoding}); "
            f"the limit is {MAX_SEGMENTS}. Shorten it"
            + (
                " or avoid characters outside the GSM alphabet."
                if counted.encoding == "UCS-2"
                else "."
            )
        )
    return counted


def non_gsm_characters(text: str) -> list[str]:
    """The characters that force UCS-2, each once, in order of appearance."""
    seen: dict[str, None] = {}
    for c in text:
        if c not in GSM7_BASIC and c not in GSM7_EXTENSION:
            seen.setdefault(c)
    return list(seen)


def _warning(encoding: str, segments: int, text: str) -> str | None:
    if segments <= WARN_SEGMENTS:
        return None
    message = f"This SMS takes {segments} segments; each member's text is billed {segments} times."
    if encoding == "UCS-2":
        shown = " ".join(non_gsm_characters(text)[:5])
        message += f" These characters make it use the shorter UCS-2 segments: {shown}"
    return message
