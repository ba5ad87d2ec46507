"""The plain-text part reads as a letter: links as "text (url)", no stars or hashes, the
organiser's line breaks kept; the HTML part keeps single line breaks too."""

from __future__ import annotations

from commsvc.services.bulletins import plain_text, rendering

LETTER = (
    "# Pay offer\n\n"
    "Dear {{ member.first_name }},\n"
    "The **pay offer** is _out_. Read [the offer](https://u.example/pay) or <https://u.example>.\n"
    "{{ 2 * 3 }} snake_case_word 2 * 3\n\n"
    "In solidarity,\nYour regional organiser"
)


def test_markdown_becomes_a_readable_plain_text_letter():
    text = plain_text.from_markdown(LETTER)
    assert text.splitlines() == [
        "Pay offer",
        "",
        "Dear {{ member.first_name }},",
        "The pay offer is out. Read the offer (https://u.example/pay) or https://u.example.",
        "{{ 2 * 3 }} snake_case_word 2 * 3",
        "",
        "In solidarity,",
        "Your regional organiser",
    ]


def test_a_link_to_a_variable_keeps_the_variable():
    text = plain_text.from_markdown("[Your choices]({{ preferences_url }})")
    assert text == "Your choices ({{ preferences_url }})"


def test_both_parts_of_a_rendered_email_keep_single_line_breaks():
    compiled = rendering.compile_bulletin("Subject", LETTER, "")
    email = compiled.render_email(rendering.sample_context())
    assert "In solidarity,\nYour regional organiser" in email.text
    assert "**" not in email.text and "](" not in email.text
    assert "In solidarity,<br" in email.html
