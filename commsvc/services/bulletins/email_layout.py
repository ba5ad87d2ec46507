"""An email's layout around the organiser's words, built once per bulletin.

The HTML body is the organiser's Markdown, sanitised (nh3), in the union's layout
(`templates/email/layout.html`) with its CSS inlined; the text body ends with the same
links as a plain footer. Jinja tags in the organiser's text survive all of it, to be
filled per member (rendering.py); the layout itself is never evaluated as Jinja. A
question's block goes at QUESTION_MARK, after the organiser's text and before the footer.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

import css_inline
import nh3
from markdown_it import MarkdownIt

from commsvc.services.bulletins import email_words

TEMPLATES_DIR = Path(__file__).resolve().parents[3] / "templates"
# Where a question's block goes (after the body, before the footer), filled per member.
QUESTION_MARK = "COMMSVCQUESTIONMARKX"

_JINJA_TAG = re.compile(r"({{.*?}}|{%.*?%}|{#.*?#})", re.DOTALL)
# "breaks": a single line break stays one ("In solidarity,\nYour organiser"), as typed.
_markdown = MarkdownIt(
    "commonmark", {"html": False, "linkify": False, "typographer": False, "breaks": True}
)


def text_footer(words: dict[str, str]) -> str:
    return (
        QUESTION_MARK + f"\n\n--\n{words['TEXT_PREFERENCES']}: {{{{ preferences_url }}}}\n"
        f"{words['TEXT_UNSUBSCRIBE']}: {{{{ unsubscribe_url }}}}\n"
        f"{words['TEXT_WEB_COPY']}: {{{{ web_copy_url }}}}\n"
        "{{ brand.footer }}\n"
    )


_LINKS = ("preferences_url", "unsubscribe_url", "web_copy_url")
# The brand's parts (`{{ brand.* }}`), by the layout placeholder each fills.
_BRAND_PARTS = {"masthead": "MASTHEAD", "footer": "POSTAL_ADDRESS", "colour": "COLOUR"}
_HEADING = re.compile(r"<(/?)h([1-5])>")


def html_source(markdown_source: str, subject: str, language: str, words: dict[str, str]) -> str:
    """Markdown -> sanitised HTML -> layout -> inlined CSS, keeping Jinja tags intact.

    The subject is the page's title and its one main heading, so the organiser's own
    headings move one level down.
    """
    placeholders: dict[str, str] = {}

    def protect(match: re.Match[str]) -> str:
        token = f"JINJAPLACEHOLDER{len(placeholders)}X"
        placeholders[token] = match.group(0)
        return token

    protected = _JINJA_TAG.sub(protect, markdown_source)
    body_html = _HEADING.sub(
        lambda m: f"<{m.group(1)}h{int(m.group(2)) + 1}>", nh3.clean(_markdown.render(protected))
    )
    # The subject's text, HTML-escaped around its Jinja tags (which autoescape renders).
    title = "".join(
        part if _JINJA_TAG.fullmatch(part) else html.escape(part, quote=False)
        for part in _JINJA_TAG.split(subject)
    )
    placeholders["JINJAPLACEHOLDERTITLEX"] = title
    placeholders["JINJAPLACEHOLDERTOPICX"] = "{{ bulletin.topic }}"
    for name in _LINKS:
        placeholders[f"JINJAPLACEHOLDER{name.upper()}X"] = "{{ " + name + " }}"
    # The brand is a variable like a member's name: escaped when rendered, and the
    # colour was checked as #rrggbb when saved (branding.py).
    for name, part in _BRAND_PARTS.items():
        placeholders[f"JINJAPLACEHOLDERBRAND{part}X"] = "{{ brand." + name + " }}"
    layout = (TEMPLATES_DIR / "email" / "layout.html").read_text()
    # The layout is our own trusted template: a plain string substitution, not Jinja,
    # so an organiser's text can never be evaluated as part of it.
    page = (
        layout.replace("%%BODY%%", body_html)
        .replace("%%QUESTION%%", QUESTION_MARK)
        .replace("%%TITLE%%", "JINJAPLACEHOLDERTITLEX")
    )
    page = page.replace("%%LANG%%", language if language in ("en", "cy") else "en")
    for part in _BRAND_PARTS.values():
        page = page.replace(f"%%{part}%%", f"JINJAPLACEHOLDERBRAND{part}X")
    for name in _LINKS:
        page = page.replace(f"%%{name.upper()}%%", f"JINJAPLACEHOLDER{name.upper()}X")
    for name, text in words.items():
        escaped = html.escape(text, quote=False).replace(
            email_words.TOPIC, "JINJAPLACEHOLDERTOPICX"
        )
        page = page.replace(f"%%{name}%%", escaped)
    page = css_inline.inline(page)
    # Escape anything that looks like Jinja in the trusted HTML, then restore the tags.
    page = page.replace("{", "{{ '{' }}") if "{" in page else page
    for token, tag in placeholders.items():
        page = page.replace(token, tag)
    return page


def place_question(rendered: str, block: str) -> str:
    """Put a question's block at the layout's mark (the last one: the organiser's text
    comes before it), or just remove the mark."""
    head, mark, tail = rendered.rpartition(QUESTION_MARK)
    return head + block + tail if mark else rendered
