"""Templates: what organisers may write, what they may not, and what members get."""

from __future__ import annotations

from email import message_from_bytes, policy

import pytest

from commsvc.errors import TemplateError
from commsvc.services.bulletins import rendering
from commsvc.services.bulletins.email_message import build_email


def compile_subject(source: str) -> rendering.CompiledBulletin:
    return rendering.compile_bulletin(source, "Body", "Text")


def context(**member: str) -> dict:
    values = rendering.sample_context()
    values["member"] = {**values["member"], **member}
    return values


@pytest.mark.parametrize(
    ("source", "line", "reason"),
    [
        ("{{ ''.__class__.__mro__ }}", 1, "internal"),
        ("Hello\n{{ member.__dict__ }}", 2, "internal"),
        ("a\nb\n{{ member['__class__'] }}", 3, "internal"),
        ("{{ cycler.__init__.__globals__ }}", 1, "internal"),
        ("{{ joiner }}", 1, "no variable called 'joiner'"),
        ("{{ namespace() }}", 1, "cannot call functions"),
        ("{{ range(10**9) }}", 1, "cannot call functions"),
        ("{{ lipsum(10**9) }}", 1, "cannot call functions"),
        ("{{ member.first_name.format() }}", 1, "cannot call functions"),
        ("{{ 'x' * 10**9 }}", 1, "more than 1000"),
        ("\n{{ 10 ** 10 ** 10 }}", 2, "too large"),
        (
            "{% for a in 'abc' %}\n{% for b in 'def' %}{% endfor %}{% endfor %}",
            2,
            "loops inside loops",
        ),
        ("{% for c in 'x' * 1000 %}{{ 'y' * 999 }}{% endfor %}", None, "longer than"),
        ("Hi {{ member.nickname }}", 1, "member has no attribute 'nickname'"),
        ("Hi\n\n{{ membr.first_name }}", 3, "no variable called 'membr'"),
        ("{{ member.first_name|safe }}", 1, "|safe is not available"),
        ("x\n{% autoescape false %}{{ member.first_name }}{% endautoescape %}", 2, "escaping"),
        ("{% set x = 'a' %}", 1, "{% set %}"),
        ("{% include 'layout.html' %}", 1, "include"),
        ("{% macro m() %}{% endmacro %}", 1, "macros"),
        ("Hello\n{% if member.first_name %}", 2, "end of template"),
        ("Hello {{ member.first_name", 1, "unexpected end of template"),
        ("{{ 1 / 0 }}", 1, "division by zero"),
        ("x\n{{ '%999999999d' % 1 }}", 2, "formatting of text is not available"),
    ],
)
def test_bad_template_is_rejected_with_its_line(source, line, reason):
    with pytest.raises(TemplateError) as caught:
        compile_subject(source)
    assert reason in caught.value.detail
    if line is not None:
        assert f"subject, line {line}:" in caught.value.detail


def test_error_in_sms_or_email_body_names_that_part():
    with pytest.raises(TemplateError, match="^SMS body, line 2: there is no variable"):
        rendering.compile_bulletin("Subject", "Body", "Hi\n{{ nobody }}")
    with pytest.raises(TemplateError, match="^email body, line 3: member has no attribute"):
        rendering.compile_bulletin("Subject", "# Title\n\n{{ member.age }}", "Text")


def test_documented_variables_and_filters_render():
    compiled = rendering.compile_bulletin(
        "{{ bulletin.title|upper }} for {{ member.first_name }}",
        "Hi {{ member.first_name|title }} at {{ member.workplace|default('work', true) }},\n\n"
        "{% if member.service_group == 'health' %}NHS news{% else %}Council news{% endif %} "
        "from {{ partnership.name }} ({{ organiser.email }}).",
        "{{ member.first_name }}: {{ preferences_url }}",
    )
    email = compiled.render_email(context(first_name="sam", workplace=""))
    assert email.subject == "EXAMPLE BULLETIN for sam"
    assert "Hi Sam at work," in email.text and "NHS news from Example Section 31" in email.text
    # No reply number in the tests' settings: nobody can reply STOP to "UNION".
    text = compiled.render_sms(context())
    assert "STOP" not in text and text.splitlines()[-1].startswith("Opt out: http")


def test_member_name_with_script_is_escaped_in_html():
    compiled = rendering.compile_bulletin("Hi", "Dear **{{ member.first_name }}**", "x")
    email = compiled.render_email(context(first_name="<script>alert(1)</script>"))
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in email.html
    assert "<strong>" in email.html  # the organiser's Markdown still works


def test_organiser_html_in_markdown_is_not_passed_through():
    compiled = rendering.compile_bulletin("Hi", "Hello <script>x()</script> <b>there</b>", "x")
    html = compiled.render_email(context()).html
    assert "<script>" not in html


def test_member_name_with_newline_cannot_add_email_headers():
    compiled = rendering.compile_bulletin("Pay offer for {{ member.first_name }}", "Body", "x")
    rendered = compiled.render_email(context(first_name="Sam\r\nBcc: x@evil.example"))
    envelope = build_email(
        rendered,
        delivery_id=7,
        sender="bulletins@union.example",
        recipient="sam@example.org",
        unsubscribe_url="http://127.0.0.1:5000/u/t",
        message_id_domain="union.example",
    )
    message = message_from_bytes(envelope.data, policy=policy.default)
    assert message["Bcc"] is None
    assert message["Subject"] == "Pay offer for Sam Bcc: x@evil.example"
    header_block = envelope.data.split(b"\r\n\r\n", 1)[0]
    assert b"\r\nBcc:" not in header_block and b"\nBcc:" not in header_block


def test_rendered_output_is_capped_even_when_the_sample_was_small():
    compiled = rendering.compile_bulletin(
        "Hi", "{% for c in member.first_name %}{{ 'y' * 1000 }}{% endfor %}", "x"
    )
    with pytest.raises(TemplateError, match="longer than"):
        compiled.render_email(context(first_name="z" * 300))
