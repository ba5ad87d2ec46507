"""Templates that only place values, rendered by joining their parts instead of
running Jinja: the send path renders three or four per member.

Most bulletins are text with places such as `{{ member.first_name }}` or
`{{ preferences_url }}` and no logic. For such a template (nothing but text and names,
or attributes of names) `flatten` keeps the parts, and `FlatTemplate.render` gives
exactly what Jinja would: the text as parsed, each value as it is, or HTML-escaped by
markupsafe where the environment autoescapes. Whenever a value is not a plain string
(missing, a Markup, anything else), `render` answers None and the caller renders with
Jinja, whose sandbox, budget and errors stay the one authority. Anything else in a
template (filters, tests, conditions, loops, operators, constants, `[...]`) means no
flat form at all.

An email body's flat form can also give the body quoted-printable straight away
(`render_quoted_printable`): its text is encoded once, only the values per message.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from jinja2 import Environment, nodes
from markupsafe import escape

from commsvc.services.bulletins import quoted_printable

Place = tuple[str, ...]  # a name, then the attributes read from it
# Encoded values a template keeps; past this it forgets them all. Small: what repeats
# is what members share (a few) and a message's own repeats, while a worker keeps the
# templates of its last 32 bulletins and must stay under 150 MB.
MAX_KNOWN_PIECES = 256


@dataclass(frozen=True)
class FlatTemplate:
    parts: tuple[str | Place, ...]
    autoescape: bool

    def render(self, context: dict[str, Any]) -> str | None:
        """The template's output for `context`, or None: render it with Jinja."""
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            value = _value(context, part)
            if value is None:
                return None
            out.append(str(escape(value)) if self.autoescape else value)
        return "".join(out)

    def render_quoted_printable(
        self, context: dict[str, Any], *, max_chars: int, refuse: str = ""
    ) -> bytes | None:
        """`render`'s output, quoted-printable with CRLF line ends, or None: render it
        and encode it whole. Also None past `max_chars`, or when a value holds `refuse`
        (a mark the caller looks for in the output)."""
        encoded = self._encoded_parts
        if encoded is None:
            return None
        size = self._text_chars
        pieces = self._known_pieces
        out: list[bytes] = []
        for part in encoded:
            if isinstance(part, bytes):
                out.append(part)
                continue
            value = _value(context, part)
            if value is None or (refuse and refuse in value):
                return None
            known = pieces.get(value)
            if known is None:
                text = str(escape(value)) if self.autoescape else value
                piece = quoted_printable.piece(text)
                if piece is None:
                    return None
                known = pieces[value] = (len(text), piece)
            size += known[0]
            out.append(known[1])
        if size > max_chars:
            return None
        if len(pieces) > MAX_KNOWN_PIECES:
            pieces.clear()
        return quoted_printable.joined(out)

    def without_last(self, text: str) -> FlatTemplate:
        """This template with the last occurrence of `text` in its own text removed."""
        for n in range(len(self.parts) - 1, -1, -1):
            part = self.parts[n]
            if type(part) is str and text in part:
                head, _, tail = part.rpartition(text)
                return replace(self, parts=(*self.parts[:n], head + tail, *self.parts[n + 1 :]))
        return self

    @cached_property
    def _encoded_parts(self) -> tuple[bytes | Place, ...] | None:
        """The text between the places encoded once (adjacent texts as one piece)."""
        merged: list[str | Place] = []
        for part in self.parts:
            if type(part) is str and merged and type(merged[-1]) is str:
                merged[-1] = merged[-1] + part
            else:
                merged.append(part)
        encoded: list[bytes | Place] = []
        for part in merged:
            if type(part) is not str:
                encoded.append(part)  # type: ignore[arg-type]
                continue
            piece = quoted_printable.piece(part)
            if piece is None:
                return None
            encoded.append(piece)
        return tuple(encoded)

    @cached_property
    def _known_pieces(self) -> dict[str, tuple[int, bytes]]:
        """Values met before, with their length as placed and their piece: what every
        member shares (the brand, the partnership) and a message's repeats are encoded once."""
        return {}

    @cached_property
    def _text_chars(self) -> int:
        return sum(len(part) for part in self.parts if type(part) is str)


def _value(context: dict[str, Any], place: Place) -> str | None:
    """The plain string at `place` in the context; None if it is missing or anything
    else (a Markup, a number), which is Jinja's to render."""
    value: Any = context
    for name in place:
        if type(value) is not dict or name not in value:
            return None
        value = value[name]
    return value if type(value) is str else None


def flatten(env: Environment, source: str) -> FlatTemplate | None:
    """The flat form of a template, or None if it holds more than text and places."""
    parts: list[str | Place] = []
    for node in env.parse(source).body:
        if not isinstance(node, nodes.Output):
            return None
        for child in node.nodes:
            if isinstance(child, nodes.TemplateData):
                parts.append(child.data)
            elif (place := _place(child)) is not None:
                parts.append(place)
            else:
                return None
    autoescape = env.autoescape if isinstance(env.autoescape, bool) else True
    return FlatTemplate(tuple(parts), autoescape)


def _place(node: nodes.Node) -> Place | None:
    """`a`, `a.b`, `a.b.c`: a name and attributes. An attribute that a dict has as a
    method (`items`, `keys`...) is what Jinja would read first, so it is not a place."""
    names: list[str] = []
    while isinstance(node, nodes.Getattr):
        if hasattr(dict, node.attr):
            return None
        names.append(node.attr)
        node = node.node
    if not isinstance(node, nodes.Name) or node.ctx != "load":
        return None
    return (node.name, *reversed(names))
