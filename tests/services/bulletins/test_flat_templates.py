"""Templates that only place values are joined, not run: the output is Jinja's, always."""

from __future__ import annotations

import binascii

import pytest
from markupsafe import Markup

from commsvc.errors import TemplateError
from commsvc.services.bulletins import flat_templates, rendering
from commsvc.services.bulletins.question_messages import QuestionBlock

SUBJECT = "Pay offer: have your say, {{ member.first_name }}"
BODY = (
    "Dear {{ member.first_name }} {{ member.last_name }},\n\n"
    "The **{{ partnership.name }}** offer is out; {{ member.branch }} meets next week.\n\n"
    "[Choose what you receive]({{ preferences_url }})"
)
SMS = "Hi {{ member.first_name }}, vote by Friday. {{ bulletin.title }}"
AWKWARD_NAMES = ["Alex", 'Siân <b>O\'Brien</b> & "Co"', "{{ not a tag }}", "", "x" * 300]


def _context(first_name: str) -> dict:
    context = rendering.sample_context()
    context["member"] = {**context["member"], "first_name": first_name}
    return context


@pytest.mark.parametrize("first_name", AWKWARD_NAMES)
def test_every_part_of_a_message_is_what_jinja_renders(first_name):
    compiled = rendering.compile_bulletin(SUBJECT, BODY, SMS)
    context = _context(first_name)
    for template in (compiled.subject, compiled.email_text, compiled.email_html, compiled.sms):
        assert rendering._flat.get(template) is not None  # this bulletin is all places
        assert rendering._render(template, context) == template.render(context)
    html = compiled.render_email(context).html
    if "<b>" in first_name:
        assert "<b>" not in html and "&lt;b&gt;" in html  # a name never becomes markup


def test_a_value_that_is_not_plain_text_is_left_to_jinja():
    compiled = rendering.compile_bulletin(SUBJECT, BODY, SMS)
    context = _context("Alex")
    context["partnership"] = {"name": Markup("<i>Care</i> Trust"), "kind": "care_trust"}
    flat = rendering._flat[compiled.email_html]
    assert flat.render(context) is None
    assert rendering._render(compiled.email_html, context) == compiled.email_html.render(context)


def test_templates_with_logic_have_no_flat_form_and_still_render():
    body = "{% if member.branch %}Branch: {{ member.branch|upper }}{% endif %}"
    compiled = rendering.compile_bulletin(SUBJECT, body, SMS)
    assert rendering._flat.get(compiled.email_text) is None
    assert "Branch: EXAMPLE BRANCH" in compiled.render_email(_context("Alex")).text


@pytest.mark.parametrize(
    "source", ["{{ member.items }}", "{{ member['first_name'] }}", "{{ 'text' }}", "{{ a ~ b }}"]
)
def test_anything_but_a_name_and_its_attributes_is_not_flat(source):
    assert flat_templates.flatten(rendering._text_env, source) is None


def test_a_flat_message_past_the_cap_is_refused_as_before():
    compiled = rendering.compile_bulletin(SUBJECT, BODY, SMS)
    context = _context("x" * (rendering.MAX_RENDERED_CHARS + 1))
    with pytest.raises(TemplateError):
        rendering._render(compiled.sms, context)


@pytest.mark.parametrize(
    "first_name",
    [
        *AWKWARD_NAMES,
        "Siân = “Sian”",
        "Sam\r\nBcc: x@evil.example",
        "Alex\r",
        rendering.QUESTION_MARK,
        "trailing space ",
        "é" * 90,
    ],
)
def test_the_send_paths_bodies_are_the_rendered_ones_encoded(first_name):
    compiled = rendering.compile_bulletin(SUBJECT, BODY, SMS)
    context = _context(first_name)
    sent, rendered = compiled.encode_email(context), compiled.render_email(context)
    assert sent.subject == rendered.subject
    assert (_decoded(sent.text), _decoded(sent.html)) == (
        rendered.text.replace("\r\n", "\n").replace("\r", "\n"),
        rendered.html.replace("\r\n", "\n").replace("\r", "\n"),
    )
    for body in (sent.text, sent.html):
        assert body.isascii()
        assert max(len(line) for line in body.split(b"\r\n")) <= 76


def test_a_question_goes_in_the_send_paths_email_as_in_the_rendered_one():
    compiled = rendering.compile_bulletin(SUBJECT, BODY, SMS)
    context = _context("Alex")
    context["question_block"] = QuestionBlock(text="Vote: yes or no", html="<p>Vote</p>")
    sent, rendered = compiled.encode_email(context), compiled.render_email(context)
    assert "Vote: yes or no" in _decoded(sent.text) == rendered.text
    assert "<p>Vote</p>" in _decoded(sent.html) == rendered.html


def test_a_send_paths_message_past_the_cap_is_refused_as_before():
    compiled = rendering.compile_bulletin(SUBJECT, BODY, SMS)
    with pytest.raises(TemplateError):
        compiled.encode_email(_context("x" * (rendering.MAX_RENDERED_CHARS + 1)))


def _decoded(body: bytes) -> str:
    return binascii.a2b_qp(body).decode().replace("\r\n", "\n")
