"""Turning an organiser's words into each member's message, safely and once.

Organisers write Jinja2 in a sandbox (what it allows: `sandbox.py`): templates are
checked when a bulletin is saved (syntax, unknown variables, sandbox escapes), so a
broken template never reaches a worker. Email bodies are Markdown. The Markdown, the
sanitising, the layout and the CSS inlining run once per bulletin (email_layout.py),
leaving a compiled template whose only per-member work is filling in variables, with
HTML escaping on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from flask import current_app, has_app_context
from jinja2 import Template, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError

from commsvc.errors import TemplateError
from commsvc.services.bulletins import (
    branding,
    email_layout,
    email_words,
    flat_templates,
    plain_text,
    quoted_printable,
    sandbox,
    work_budget,
)
from commsvc.services.bulletins.links import TEST_COPY_TEXT_TOKEN, TEXT_OPT_OUT_PATH, LinkMaker
from commsvc.services.bulletins.sandbox import Sandbox

MAX_RENDERED_CHARS = 200_000
# How a text says to stop texts. "Reply STOP" only when it goes from a number members
# can reply to (COMMSVC_SMS_REPLY_FROM): nobody can reply to a sender ID like UNION.
SMS_OPT_OUT_HINT = "Reply STOP to opt out"
SMS_OPT_OUT_LINK = "Opt out: {url}"
VARIABLES = tuple(sandbox.VARIABLES)
QUESTION_MARK = email_layout.QUESTION_MARK


_text_env = Sandbox(autoescape=False, keep_trailing_newline=True)
_html_env = Sandbox(autoescape=True)
# The flat form of each compiled template that has one (flat_templates.py).
_flat: WeakKeyDictionary[Template, flat_templates.FlatTemplate] = WeakKeyDictionary()
# An email body's flat form without its question mark: what members get with no question.
_flat_unmarked: WeakKeyDictionary[Template, flat_templates.FlatTemplate] = WeakKeyDictionary()


@dataclass(frozen=True)
class EncodedEmail:
    """A member's email with its bodies as they go in it (quoted-printable)."""

    subject: str
    text: bytes
    html: bytes


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str

    def encoded(self) -> EncodedEmail:
        return EncodedEmail(
            self.subject, quoted_printable.encode(self.text), quoted_printable.encode(self.html)
        )


@dataclass(frozen=True)
class CompiledBulletin:
    """A bulletin's templates, compiled once and rendered for many members."""

    subject: Template
    email_text: Template
    email_html: Template
    sms: Template

    def render_email(self, context: dict[str, Any]) -> RenderedEmail:
        subject = self._subject(context)
        block = context.get("question_block")  # a question_messages.QuestionBlock, or None
        place = email_layout.place_question
        return RenderedEmail(
            subject=subject,
            text=place(_render(self.email_text, context), block.text if block else ""),
            html=place(_render(self.email_html, context), block.html if block else ""),
        )

    def encode_email(self, context: dict[str, Any]) -> EncodedEmail:
        """`render_email`'s email with its bodies encoded as they go out. Where a body is
        a flat template the bulletin's text is encoded once, members' values per message
        (quoted_printable.py); otherwise it is rendered and encoded whole."""
        if context.get("question_block") is None:
            text = _encoded_body(self.email_text, context)
            html = _encoded_body(self.email_html, context) if text is not None else None
            if text is not None and html is not None:
                return EncodedEmail(self._subject(context), text, html)
        return self.render_email(context).encoded()

    def _subject(self, context: dict[str, Any]) -> str:
        # One line, whatever a member's name holds: a header can never gain a line.
        return " ".join(_render(self.subject, context).split())[:300]

    def render_sms(self, context: dict[str, Any]) -> str:
        body = _render(self.sms, context)
        if context.get("question_sms"):  # how to answer the bulletin's question
            body = f"{body.strip()}\n{context['question_sms']}"
        return with_opt_out_line(body, context["sms_opt_out"])


def with_opt_out_line(body: str, line: str) -> str:
    """What a member's phone shows: the body, then how to stop these texts."""
    return f"{body.strip()}\n{line}"


def sms_opt_out_line(can_reply: bool, text_opt_out_url: str) -> str:
    """The last line of every text: "Reply STOP" when members can reply, else their link."""
    return SMS_OPT_OUT_HINT if can_reply else SMS_OPT_OUT_LINK.format(url=text_opt_out_url)


def can_reply(config: Mapping[str, Any]) -> bool:
    """Whether texts go from a number members can reply to (COMMSVC_SMS_REPLY_FROM)."""
    return bool(config.get("COMMSVC_SMS_REPLY_FROM"))


def sms_opt_out_note(config: Mapping[str, Any]) -> str:
    """What the compose page tells an organiser about the line every text ends with."""
    if can_reply(config):
        return f'Texts go from {sms_sender(config)} and end "{SMS_OPT_OUT_HINT}".'
    line = sample_context()["sms_opt_out"]
    return (
        f"Members cannot reply to {config['COMMSVC_SMS_FROM']}, so every text ends "
        f'"Opt out:" and the member\'s own link ({len(line)} characters, counted here).'
    )


def sms_sender(config: Mapping[str, Any]) -> str:
    """Who texts come from: the reply number when there is one, so STOP can arrive."""
    return str(config.get("COMMSVC_SMS_REPLY_FROM") or config["COMMSVC_SMS_FROM"])


def compile_bulletin(
    subject: str,
    email_body: str,
    sms_body: str,
    sample: dict[str, Any] | None = None,
    language: str = "en",
) -> CompiledBulletin:
    """Compile and check all templates of a bulletin; raise TemplateError naming the line.

    `language` is the language of this version: the layout's own words and its `lang`.
    """
    for source, label in ((subject, "subject"), (email_body, "email body"), (sms_body, "SMS body")):
        check_template(source, label)  # the organiser's own lines, for exact line numbers
    words = email_words.layout_words(language)
    compiled = CompiledBulletin(
        subject=_compile(_text_env, subject, "subject"),
        email_text=_compile(
            _text_env,
            plain_text.from_markdown(email_body) + email_layout.text_footer(words),
            "email body",
        ),
        email_html=_compile(
            _html_env, email_layout.html_source(email_body, subject, language, words), "email body"
        ),
        sms=_compile(_text_env, sms_body, "SMS body"),
    )
    _trial_render(compiled, sample or sample_context())
    for body in (compiled.email_text, compiled.email_html):
        if (flat := _flat.get(body)) is not None:
            _flat_unmarked[body] = flat.without_last(QUESTION_MARK)
    return compiled


def check_template(source: str, label: str) -> None:
    """Parse one of the organiser's templates and hold it to the sandbox's subset."""
    try:
        parsed = _text_env.parse(source)
    except TemplateSyntaxError as error:
        raise TemplateError(
            f"{label}, line {error.lineno}: {error.message}", line=error.lineno, part=label
        ) from None
    sandbox.check(parsed, label)


def sample_context() -> dict[str, Any]:
    """A made-up member, used to check templates before anything is saved.

    Its text opt-out line is the one members get under the running configuration, with
    a link as long as theirs, so a segment count made with it is the members' count.
    """
    config: Mapping[str, Any] = current_app.config if has_app_context() else {}
    public_url = str(config.get("COMMSVC_PUBLIC_URL") or "https://example.org")
    opt_out_url = f"{public_url}{TEXT_OPT_OUT_PATH}{TEST_COPY_TEXT_TOKEN}"
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
        "web_copy_url": "https://example.org/w/token",
        "sms_opt_out": sms_opt_out_line(can_reply(config), opt_out_url),
        "brand": dict(branding.DEFAULT_EMAIL_VALUES),
    }


def member_context_values(**values: str) -> dict[str, str]:
    """A member as templates see it: exactly the documented fields, as text."""
    fields = sandbox.VARIABLES["member"] or ()
    return {key: values.get(key) or "" for key in fields}


def member_values_of(member: Any) -> dict[str, str]:
    """A stored member (a `Member`) as templates see it, for one-off renders (a preview, a
    web copy); batches build the same from their own query (delivery/recipients.py)."""
    return member_context_values(
        first_name=member.first_name,
        last_name=member.last_name,
        membership_number=member.membership_number,
        workplace=member.workplace,
        job_title=member.job_title,
        service_group=member.service_group,
        region=member.region.name,
        branch=member.branch.name if member.branch else "",
        employer=member.employer.name if member.employer else "",
    )


def bulletin_context(bulletin: Any) -> dict[str, Any]:
    """The variables every member of one bulletin shares (a `Bulletin`)."""
    return {
        "partnership": {"name": bulletin.partnership.name, "kind": bulletin.partnership.kind},
        "bulletin": {"title": bulletin.title, "topic": bulletin.topic.name},
        "organiser": {"email": bulletin.created_by},
        "brand": branding.email_values(branding.brand_for(bulletin.partnership.region_id), "en"),
    }


def member_context(
    shared: dict[str, Any],
    member: dict[str, str],
    links: LinkMaker,
    public_id: str,
    topic_id: int,
    bulletin_id: int = 0,
    *,
    replies: bool,
) -> dict[str, Any]:
    """All a template sees for one member: the preview and the workers both build it here,
    so what an organiser previews is what the member gets. `replies`: texts go from a
    number members can reply to (`can_reply`)."""
    return {
        **shared,
        "member": member,
        "preferences_url": links.preferences_url(public_id),
        "unsubscribe_url": links.unsubscribe_url(public_id, topic_id),
        "web_copy_url": links.web_copy_url(public_id, bulletin_id),
        "sms_opt_out": sms_opt_out_line(replies, links.text_opt_out_url(public_id)),
    }


def _encoded_body(template: Template, context: dict[str, Any]) -> bytes | None:
    """A body with no question, quoted-printable from its flat form; None: no such form
    (or a value holds the question mark, whose last occurrence `_place_question` removes)."""
    flat = _flat_unmarked.get(template)
    if flat is None:
        return None
    return flat.render_quoted_printable(context, max_chars=MAX_RENDERED_CHARS, refuse=QUESTION_MARK)


def _compile(env: Sandbox, source: str, label: str) -> Template:
    try:
        template = env.from_string(source)
        flat = flat_templates.flatten(env, source)
        if flat is not None:
            _flat[template] = flat
        return template
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
            _render(template, context)
        except TemplateError as error:
            raise TemplateError(f"{label}: {error.detail}", part=label) from None
        except Exception as error:  # undefined, not allowed, a filter misused, 1/0...
            line = _template_line(error)
            where = f"{label}, line {line}" if line else label
            reason = error.message if isinstance(error, UndefinedError) else str(error)
            if isinstance(error, SecurityError):
                reason = f"not allowed: {reason}"
            raise TemplateError(f"{where}: {reason}", line=line, part=label) from None


def _render(template: Template, context: dict[str, Any]) -> str:
    """Render within a budget of work, stopping as soon as the output passes the cap
    (not after building it). A template that only places values is joined instead."""
    flat = _flat.get(template)
    if flat is not None and (joined := flat.render(context)) is not None:
        if len(joined) > MAX_RENDERED_CHARS:
            raise TemplateError(f"the message would be longer than {MAX_RENDERED_CHARS} characters")
        return joined
    size = 0
    chunks = []
    budget = work_budget.start()
    try:
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_RENDERED_CHARS:
                raise TemplateError(
                    f"the message would be longer than {MAX_RENDERED_CHARS} characters"
                )
            chunks.append(chunk)
    finally:
        work_budget.stop(budget)
    return "".join(chunks)


def _template_line(error: BaseException) -> int | None:
    """The template line an error happened on: Jinja puts template frames in tracebacks."""
    line = None
    trace = error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == "<template>":
            line = trace.tb_lineno
        trace = trace.tb_next
    return line
