"""Turning an organiser's words into each member's message, safely and once.

Organisers write Jinja2 in a sandbox: templates are checked when a bulletin is saved
(syntax, unknown variables, sandbox escapes), so a broken template never reaches a
worker. Email bodies are Markdown. The Markdown, the sanitising (nh3), the layout and
the CSS inlining run once per bulletin, leaving a compiled template whose only
per-member work is filling in variables, with HTML escaping on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import css_inline
import nh3
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from markdown_it import MarkdownIt

from commsvc.errors import TemplateError

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"
MAX_RENDERED_CHARS = 200_000
SMS_OPT_OUT_HINT = "Reply STOP to opt out"
VARIABLES = ("member", "partnership", "bulletin", "organiser", "preferences_url", "unsubscribe_url")

_JINJA_TAG = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})", re.DOTALL)
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})


class _Sandbox(ImmutableSandboxedEnvironment):
    """No internals, no mutation, bounded ranges (Jinja's own MAX_RANGE)."""


_text_env = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
_html_env = _Sandbox(undefined=StrictUndefined, autoescape=True)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class CompiledBulletin:
    """A bulletin's templates, compiled once and rendered for many members."""

    subject: Any
    email_text: Any
    email_html: Any
    sms: Any

    def render_email(self, context: dict[str, Any]) -> RenderedEmail:
        subject = " ".join(_bounded(self.subject.render(context)).split())[:300]
        return RenderedEmail(
            subject=subject,
            text=_bounded(self.email_text.render(context)),
            html=_bounded(self.email_html.render(context)),
        )

    def render_sms(self, context: dict[str, Any]) -> str:
        body = _bounded(self.sms.render(context)).strip()
        return f"{body}\n{SMS_OPT_OUT_HINT}"


def compile_bulletin(
    subject: str, email_body: str, sms_body: str, sample: dict[str, Any] | None = None
) -> CompiledBulletin:
    """Compile and check all templates of a bulletin; raise TemplateError naming the line."""
    for source, label in ((subject, "subject"), (email_body, "email body"), (sms_body, "SMS body")):
        _compile(_text_env, source, label)  # the organiser's own lines, for exact line numbers
    compiled = CompiledBulletin(
        subject=_compile(_text_env, subject, "subject"),
        email_text=_compile(_text_env, email_body + _TEXT_FOOTER, "email body"),
        email_html=_compile(_html_env, _email_html_source(email_body), "email body"),
        sms=_compile(_text_env, sms_body, "SMS body"),
    )
    _trial_render(compiled, sample or sample_context())
    return compiled


def sample_context() -> dict[str, Any]:
    """A made-up member, used to check templates before anything is saved."""
    return {
        "member": member_context_values(
            first_name="Alex",
            last_name="Morgan",
            membership_number="S0000001",
            branch="Example Branch",
            employer="Example NHS Trust",
            workplace="Example Ward",
            job_title="Support Worker",
            service_group="health",
            region="North West",
        ),
        "partnership": {"name": "Example Section 31 Partnership", "kind": "section_31_partnership"},
        "bulletin": {"title": "Example bulletin", "topic": "bargaining"},
        "organiser": {"email": "organiser@example.org"},
        "preferences_url": "https://example.org/p/token",
        "unsubscribe_url": "https://example.org/u/token",
    }


def member_context_values(**values: str) -> dict[str, str]:
    return {
        key: values.get(key, "")
        for key in (
            "first_name",
            "last_name",
            "membership_number",
            "branch",
            "employer",
            "workplace",
            "job_title",
            "service_group",
            "region",
        )
    }


_TEXT_FOOTER = (
    "\n\n--\nChoose what you receive: {{ preferences_url }}\nUnsubscribe: {{ unsubscribe_url }}\n"
)


def _email_html_source(markdown_source: str) -> str:
    """Markdown -> sanitised HTML -> layout -> inlined CSS, keeping Jinja tags intact."""
    placeholders: dict[str, str] = {}

    def protect(match: re.Match[str]) -> str:
        token = f"JINJAPLACEHOLDER{len(placeholders)}X"
        placeholders[token] = match.group(0)
        return token

    protected = _JINJA_TAG.sub(protect, markdown_source)
    body_html = nh3.clean(_markdown.render(protected))
    for name in ("preferences_url", "unsubscribe_url"):
        placeholders[f"JINJAPLACEHOLDER{name.upper()}X"] = "{{ " + name + " }}"
    layout = (TEMPLATES_DIR / "email" / "layout.html").read_text()
    # The layout is our own trusted template: a plain string substitution, not Jinja,
    # so an organiser's text can never be evaluated as part of it.
    page = (
        layout.replace("%%BODY%%", body_html)
        .replace("%%PREFERENCES_URL%%", "JINJAPLACEHOLDERPREFERENCES_URLX")
        .replace("%%UNSUBSCRIBE_URL%%", "JINJAPLACEHOLDERUNSUBSCRIBE_URLX")
    )
    page = css_inline.inline(page)
    # Escape anything that looks like Jinja in the trusted HTML, then restore the tags.
    page = page.replace("{", "{{ '{' }}") if "{" in page else page
    for token, tag in placeholders.items():
        page = page.replace(token, tag)
    return page


def _compile(env: _Sandbox, source: str, label: str) -> Any:
    try:
        return env.from_string(source)
    except TemplateSyntaxError as error:
        raise TemplateError(
            f"{label}, line {error.lineno}: {error.message}", line=error.lineno, part=label
        ) from None


def _trial_render(compiled: CompiledBulletin, context: dict[str, Any]) -> None:
    parts = (
        ("subject", compiled.subject),
        ("email body", compiled.email_text),
        ("email body", compiled.email_html),
        ("SMS body", compiled.sms),
    )
    for label, template in parts:
        try:
            _bounded(template.render(context))
        except UndefinedError as error:
            raise TemplateError(
                f"{label}: {error.message}. The variables you can use are: " + ", ".join(VARIABLES),
                part=label,
            ) from None
        except SecurityError as error:
            raise TemplateError(f"{label}: not allowed: {error}", part=label) from None
        except TemplateError:
            raise
        except Exception as error:  # a filter misused, a division by zero...
            raise TemplateError(f"{label}: {error}", part=label) from None


def _bounded(text: str) -> str:
    if len(text) > MAX_RENDERED_CHARS:
        raise TemplateError(f"the message would be longer than {MAX_RENDERED_CHARS} characters")
    return text
