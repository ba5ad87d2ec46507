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
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, nodes
from markupsafe import escape

Place = tuple[str, ...]  # a name, then the attributes read from it


@dataclass(frozen=True)
class FlatTemplate:
    parts: tuple[str | Place, ...]
    autoescape: bool

    def render(self, context: dict[str, Any]) -> str | None:
        """The template's output for `context`, or None: render it with Jinja."""
        out: list[str] = []
        for part in self.parts:
            if type(part) is str:
                out.append(part)
                continue
            value: Any = context
            for name in part:
                if type(value) is not dict or name not in value:
                    return None
                value = value[name]
            if type(value) is not str:
                return None
            out.append(str(escape(value)) if self.autoescape else value)
        return "".join(out)


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
