"""What an organiser's template may do: a small, checked subset of Jinja2.

Templates are checked twice. Before anything is saved, the parsed template is walked
and anything outside the subset is rejected with the line it is on: unknown
variables and fields, function calls, internals (`__class__`), `{% set %}`, macros,
includes, `{% autoescape false %}`, loops inside loops and filters not on the list
(`safe` above all: it would let a member's name into the HTML unescaped). Then the
sandbox bounds what is left at run time: `*`, `**`, `+` and `~` cannot build huge
values, output stops growing past a cap, and each render has a budget of work
(`work_budget`) so a loop cannot burn CPU without output. This module never renders
for members; it only says yes or no.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterator
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from commsvc.errors import TemplateError
from commsvc.services.bulletins import work_budget

MAX_SEQUENCE = 1_000  # longest string or list `*` may build
MAX_JOINED = 100_000  # longest string or list `+` may build
MAX_POWER_BITS = 256  # largest number `**` may build
MAX_LOOP_DEPTH = 1

# The documented variables, with the fields each offers (None: a plain value).
VARIABLES: dict[str, tuple[str, ...] | None] = {
    "member": (
        "first_name",
        "last_name",
        "membership_number",
        "branch",
        "employer",
        "workplace",
        "job_title",
        "service_group",
        "region",
    ),
    "partnership": ("name", "kind"),
    "bulletin": ("title", "topic"),
    "organiser": ("email",),
    "preferences_url": None,
    "unsubscribe_url": None,
    "web_copy_url": None,
}

# Filters an organiser may use, with what each does (shown on the compose page).
FILTERS: dict[str, str] = {
    "upper": "CAPITALS",
    "lower": "lower case",
    "title": "Title Case",
    "capitalize": "First letter capital",
    "trim": "remove spaces at both ends",
    "default": "a fallback when empty: {{ member.workplace|default('your workplace', true) }}",
    "truncate": "shorten to a length: {{ bulletin.title|truncate(40) }}",
    "wordcount": "number of words",
    "length": "number of characters",
    "first": "first character",
    "last": "last character",
    "join": "join a list",
    "striptags": "remove HTML tags",
    "urlencode": "make safe for a link",
    "escape": "escape HTML (already done for you in emails)",
    "e": "same as escape",
    "d": "same as default",
}

_ALLOWED_NODES = (
    nodes.Template,
    nodes.Scope,  # only a container; what it holds is checked
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Slice,
    nodes.Filter,
    nodes.Test,
    nodes.If,
    nodes.For,
    nodes.CondExpr,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Compare,
    nodes.Operand,
    nodes.Concat,
    nodes.List,
    nodes.Tuple,
    nodes.Keyword,
    nodes.Add,
    nodes.Sub,
    nodes.Mul,
    nodes.Div,
    nodes.FloorDiv,
    nodes.Mod,
    nodes.Pow,
    nodes.Neg,
    nodes.Pos,
)
_STATEMENT_HINTS = {
    nodes.Assign: "{% set %} is not available",
    nodes.AssignBlock: "{% set %} is not available",
    nodes.Macro: "macros are not available",
    nodes.CallBlock: "{% call %} is not available",
    nodes.FilterBlock: "{% filter %} blocks are not available",
    nodes.Include: "templates cannot include other files",
    nodes.Import: "templates cannot import other files",
    nodes.FromImport: "templates cannot import other files",
    nodes.Extends: "templates cannot extend other files",
    nodes.Block: "{% block %} is not available",
    nodes.ScopedEvalContextModifier: "escaping cannot be switched off",
    nodes.EvalContextModifier: "escaping cannot be switched off",
    nodes.Call: "templates cannot call functions; use a filter such as |upper instead",
    nodes.With: "{% with %} is not available",
    nodes.ExprStmt: "{% do %} is not available",
}
_BINOPS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}


class Sandbox(ImmutableSandboxedEnvironment):
    """No internals, no mutation, no globals, arithmetic that cannot explode, and a
    budget of work per render (`work_budget`)."""

    intercepted_binops = frozenset(_BINOPS)
    code_generator_class = work_budget.BudgetedCodeGenerator

    def __init__(self, **options: Any) -> None:
        super().__init__(undefined=StrictUndefined, **options)
        self.globals.clear()  # no range, lipsum, cycler, joiner, namespace, dict
        self.filters = {name: work_budget.charged(self.filters[name]) for name in FILTERS}
        tests: dict[str, Any] = dict(self.tests)
        self.tests = {name: work_budget.charged(test) for name, test in tests.items()}

    def budgeted_concat(self, join: Any, parts: tuple[Any, ...]) -> str:
        return work_budget.concat(join, parts)

    def budgeted_compare(self, left: Any, *pairs: Any) -> bool:
        return work_budget.compare(left, *pairs)

    def getitem(self, obj: Any, argument: Any) -> Any:
        work_budget.charge(obj if isinstance(argument, slice) else None)
        return super().getitem(obj, argument)

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name in ("*", "+"):
            _check_size(operator_name, left, right)
            work_budget.charge(left, right)
        if operator_name == "**":
            _check_power(left, right)
        if operator_name == "%" and isinstance(left, str):
            # printf-style widths ('%999999999d' % 1) would build any size of text.
            raise SecurityError("'%' formatting of text is not available; join text with ~")
        return _BINOPS[operator_name](left, right)


def check(template: nodes.Template, label: str) -> None:
    """Reject what the subset does not allow, naming the line."""
    loop_names = {n.name for n in template.find_all(nodes.Name) if n.ctx == "store"}
    known = set(VARIABLES) | loop_names | {"loop"}
    for node, depth, line in _walk(template, 0, None):
        hint = _STATEMENT_HINTS.get(type(node))
        if hint is not None:
            raise _error(label, line, hint)
        if not isinstance(node, _ALLOWED_NODES):
            raise _error(label, line, f"{type(node).__name__} is not available in templates")
        if isinstance(node, nodes.For) and depth > MAX_LOOP_DEPTH:
            raise _error(label, line, "loops inside loops are not allowed")
        if isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in known:
            raise _error(
                label,
                line,
                f"there is no variable called {node.name!r}; you can use " + ", ".join(VARIABLES),
            )
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            _check_field(node, label, line)
        if isinstance(node, nodes.Filter) and node.name not in FILTERS:
            raise _error(
                label, line, f"the filter |{node.name} is not available; use " + ", ".join(FILTERS)
            )


def _walk(
    node: nodes.Node, depth: int, line: int | None
) -> Iterator[tuple[nodes.Node, int, int | None]]:
    """Every node with its loop depth and line (a node without one takes its parent's)."""
    if isinstance(node, nodes.For):
        depth += 1
    line = getattr(node, "lineno", None) or line
    yield node, depth, line
    for child in node.iter_child_nodes():
        yield from _walk(child, depth, line)


def _check_field(node: nodes.Getattr | nodes.Getitem, label: str, line: int | None) -> None:
    if isinstance(node, nodes.Getattr):
        field: Any = node.attr
    elif isinstance(node.arg, nodes.Const):
        field = node.arg.value
    else:
        return  # an index computed at run time: the sandbox guards it
    if isinstance(field, str) and field.startswith("_"):
        raise _error(label, line, f"{field!r} is internal and not allowed in templates")
    target = node.node
    if isinstance(target, nodes.Name) and target.name in VARIABLES:
        fields = VARIABLES[target.name]
        if fields is None or field not in fields:
            offered = ", ".join(f"{target.name}.{f}" for f in fields or ())
            raise _error(
                label,
                line,
                f"{target.name} has no attribute {field!r}"
                + (f"; you can use {offered}" if offered else ""),
            )


def _check_size(operator_name: str, left: Any, right: Any) -> None:
    sequences = (str, list, tuple)
    if operator_name == "*":
        for sequence, times in ((left, right), (right, left)):
            if (
                isinstance(sequence, sequences)
                and isinstance(times, int)
                and len(sequence) * max(times, 0) > MAX_SEQUENCE
            ):
                raise SecurityError(f"'*' would build more than {MAX_SEQUENCE} items")
    elif (
        isinstance(left, sequences)
        and isinstance(right, sequences)
        and len(left) + len(right) > MAX_JOINED
    ):
        raise SecurityError(f"'+' would build more than {MAX_JOINED} items")


def _check_power(base: Any, exponent: Any) -> None:
    if not isinstance(base, int | float) or not isinstance(exponent, int | float):
        return
    base_bits = abs(int(base)).bit_length() if isinstance(base, int) else math.frexp(base)[1]
    if abs(exponent) * max(base_bits, 1) > MAX_POWER_BITS:
        raise SecurityError("'**' would build a number too large to use")


def _error(label: str, line: int | None, message: str) -> TemplateError:
    where = f"{label}, line {line}" if line else label
    return TemplateError(f"{where}: {message}", line=line, part=label)
