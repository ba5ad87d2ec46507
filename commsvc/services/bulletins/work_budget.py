"""How much work one render of an organiser's template may do, counted as it runs.

Output is capped elsewhere; this bounds the work that produces no output: a loop over
a long string that compares, joins (`~`) or adds long values on every turn would take
minutes at save time, and the SMS counter lets any logged-in user (a viewer included)
ask for a render. Every operation whose cost grows with its operands (`~`, `+`, `*`,
comparisons and `in`, filters, tests, slices) is charged the sizes it touches against
a budget per render, and `~` may not build more than `MAX_JOINED` characters. A render
that runs out stops at once with a SecurityError that says so.

`BudgetedCodeGenerator` routes `~` and comparisons through the environment (Jinja
compiles them to plain Python otherwise); the sandbox does the charging.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from contextvars import ContextVar, Token
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError

MAX_WORK = 2_000_000  # characters or items touched in one render
MAX_JOINED = 100_000  # longest text `~` may build

COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "gteq": operator.ge,
    "lt": operator.lt,
    "lteq": operator.le,
    "in": lambda a, b: a in b,
    "notin": lambda a, b: a not in b,
}


class _Budget:
    def __init__(self, limit: int) -> None:
        self.left = limit


_current: ContextVar[_Budget | None] = ContextVar("commsvc_template_budget", default=None)


def start(limit: int = MAX_WORK) -> Token[_Budget | None]:
    """A fresh budget for one render (one message part); `stop` it when done. Plain
    calls, not a context manager: this runs four times per member on the send path."""
    return _current.set(_Budget(limit))


def stop(token: Token[_Budget | None]) -> None:
    _current.reset(token)


def charge(*values: Any) -> None:
    """Spend the sizes of `values` (1 for anything without a length)."""
    current = _current.get()
    if current is None:
        return
    for value in values:
        current.left -= size(value)
    if current.left < 0:
        raise SecurityError(
            "this template does too much work (a loop over long text or a list, comparing "
            "or joining long values each time); make it simpler"
        )


def size(value: Any) -> int:
    try:
        return max(len(value), 1)
    except Exception:  # no length; an undefined value (whose len raises) costs 1 too
        return 1


def compare(left: Any, *pairs: Any) -> bool:
    """A chained comparison (`a < b <= c`), charged what it reads."""
    for index in range(0, len(pairs), 2):
        op, right = pairs[index], pairs[index + 1]
        charge(left, right)
        if not COMPARISONS[op](left, right):
            return False
        left = right
    return True


def concat(join: Callable[[Any], str], parts: tuple[Any, ...]) -> str:
    """`~`, refusing text longer than MAX_JOINED before building it."""
    length = sum(len(p) if isinstance(p, str) else len(str(p)) for p in parts)
    if length > MAX_JOINED:
        raise SecurityError(f"'~' would build more than {MAX_JOINED} characters")
    charge(length)
    return join(parts)


def charged(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter or test that first pays for the value it works on."""

    # A filter marked pass_context / pass_eval_context takes that first, then the value.
    passes = hasattr(function, "jinja_pass_arg")

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        position = 1 if passes else 0
        if len(args) > position:
            charge(args[position])
        return function(*args, **kwargs)

    if passes:
        wrapper.jinja_pass_arg = function.jinja_pass_arg  # type: ignore[attr-defined]
    return wrapper


class BudgetedCodeGenerator(CodeGenerator):
    """Compiles `~` and comparisons to calls the sandbox can charge."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.budgeted_concat({join}, (")
        for argument in node.nodes:
            self.visit(argument, frame)
            self.write(", ")
        self.write("))")

    @optimizeconst
    def visit_Compare(self, node: nodes.Compare, frame: Frame) -> None:
        self.write("environment.budgeted_compare(")
        self.visit(node.expr, frame)
        for operand in node.ops:
            self.write(f", {operand.op!r}, ")
            self.visit(operand.expr, frame)
        self.write(")")
