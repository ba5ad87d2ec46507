"""Templates cannot burn CPU: work that grows with long values inside a loop, and `~`
building huge text, are refused at save time with a clear error, however little
they output; ordinary templates render as before."""

from __future__ import annotations

import pytest

from commsvc.errors import TemplateError
from commsvc.services.bulletins import rendering

LONG_TEXT = "(" + " + ".join(['"x" * 1000'] * 40) + ")"  # 40,000 characters
LOOP = "{% for c in " + LONG_TEXT + " %}"

HOSTILE = {
    "a comparison of long text on every turn": LOOP
    + "{% if "
    + LONG_TEXT
    + " == "
    + LONG_TEXT
    + " %}{% endif %}{% endfor %}",
    "`in` over long text on every turn": LOOP
    + "{% if c in "
    + LONG_TEXT
    + " %}{% endif %}{% endfor %}",
    "`~` of long text on every turn": LOOP
    + "{{ (c ~ ('x' * 1000) ~ ('x' * 1000) ~ ('x' * 1000))|length == 0 }}{% endfor %}",
    "a filter over long text on every turn": LOOP
    + "{{ ('x' * 1000 + 'x' * 1000)|wordcount == 0 }}{% endfor %}",
}


@pytest.mark.parametrize("source", HOSTILE.values(), ids=HOSTILE.keys())
def test_a_template_that_does_too_much_work_is_refused_with_a_clear_error(app, source):
    with pytest.raises(TemplateError, match="does too much work"):
        rendering.compile_bulletin("Subject", "Body", source)


def test_tilde_cannot_build_huge_text(app):
    source = "{{ (" + " ~ ".join(["('x' * 1000 + 'x' * 1000)"] * 60) + ")|length }}"
    with pytest.raises(TemplateError, match="'~' would build more than 100000 characters"):
        rendering.compile_bulletin("Subject", "Body", source)


def test_ordinary_loops_comparisons_and_joins_still_render(app):
    source = (
        "Hi {{ member.first_name ~ ' ' ~ member.last_name }}"
        "{% for c in 'abc' %} {{ c|upper }}{% if c == 'b' %}!{% endif %}{% endfor %}"
        " {{ 'a' < 'b' <= 'b' }} {{ 1 in [1, 2] }} {{ 'z' not in member.first_name }}"
        " {{ [member.first_name, member.last_name]|join(', ') }}"
    )
    compiled = rendering.compile_bulletin("Subject", "Body", source)
    text = compiled.render_sms(rendering.sample_context())
    assert text.startswith("Hi Alex Morgan A B! C True True True Alex, Morgan")
