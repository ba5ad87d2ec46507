"""The plain-text part of an email, from the organiser's Markdown: it reads as a letter,
not as markup. Links become "text (url)", emphasis loses its stars, headings their
hashes; line breaks stay where the organiser put them.

Jinja tags are set aside first and put back after, so `{{ a * b }}` or a link whose
address is `{{ preferences_url }}` survive untouched.
"""

from __future__ import annotations

import re

_JINJA_TAG = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})", re.DOTALL)
_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*([^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
_LINK = re.compile(r"\[([^\]]+)\]\(\s*([^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>\s]+)>")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.*?)[ \t]*#*[ \t]*$", re.MULTILINE)
_CODE = re.compile(r"`([^`]+)`")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>])")


def from_markdown(source: str) -> str:
    """Markdown source (with Jinja tags) to readable plain text (with the same tags)."""
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    def restore(text: str) -> str:
        return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], text)

    text = _JINJA_TAG.sub(keep, source)
    text = _IMAGE.sub(lambda m: f"{m.group(1)} ({m.group(2)})" if m.group(1) else m.group(2), text)
    text = _LINK.sub(lambda m: _link(restore(m.group(1)), restore(m.group(2))), text)
    text = _AUTOLINK.sub(r"\1", text)
    text = _STRONG.sub(r"\2", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _HEADING.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = _ESCAPE.sub(r"\1", text)
    return restore(text)


def _link(label: str, url: str) -> str:
    """A link whose words are its address is written once."""
    return url if label.strip() == url.strip() else f"{label} ({url})"
