"""What a bulletin's question adds to each member's email and text, in their language.

Email: the question, then one link per choice whose text is the choice ("Choice: link"
lines in the plain part). A link only opens the answer page with that choice selected;
the member presses a button there to answer, so a mail scanner opening every link
records nothing. SMS: "Reply 1 for Accept, 2 for Reject" when texts go from a number
members can reply to (COMMSVC_SMS_REPLY_FROM); otherwise a link to the answer page,
never a promise of a reply that cannot arrive. Workers run outside any request, so
the few fixed sentences live here in English and Welsh rather than in Flask-Babel.
The email's box and buttons take the colour of the brand the rest of the email wears
(`brand.colour` of the member's context, branding.py), never a colour of their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Any

from commsvc.models import Question
from commsvc.services.bulletins.links import MemberLinks
from commsvc.uk_time import for_people

WORDING: dict[str, dict[str, str]] = {
    "en": {
        "choose": "Choose your answer (you can change it until {close}):",
        "event": "When: {at}. Where: {place}.",
        "reply": "Reply {options}",
        "option": "{n} for {choice}",
        "link": "Answer at {url}",
    },
    "cy": {
        "choose": "Dewiswch eich ateb (gallwch ei newid tan {close}):",
        "event": "Pryd: {at}. Ble: {place}.",
        "reply": "Atebwch {options}",
        "option": "{n} am {choice}",
        "link": "Atebwch yma: {url}",
    },
}


@dataclass(frozen=True)
class QuestionBlock:
    """The question as it appears in one member's email."""

    text: str
    html: str


def context_for(
    question: Question,
    links: MemberLinks,
    public_id: str,
    language: str,
    channel: str,
    can_reply: bool,
    *,
    colour: str,
) -> dict[str, Any]:
    """What rendering adds for one member on one channel (see CompiledBulletin);
    `colour`: the brand's, as the email layout shows it (`context["brand"]["colour"]`)."""
    if channel == "email":
        return {"question_block": email_block(question, links, public_id, language, colour)}
    return {"question_sms": sms_line(question, links, public_id, language, can_reply)}


def email_block(
    question: Question, links: MemberLinks, public_id: str, language: str, colour: str
) -> QuestionBlock:
    words = _words(language)
    urls = [links.answer_url(public_id, question.id, n) for n in range(len(question.choices))]
    choose = words["choose"].format(close=for_people(question.closed_at, language))
    lines = [question.text]
    if question.kind == "rsvp" and question.event_at is not None:
        lines.append(
            words["event"].format(
                at=for_people(question.event_at, language), place=question.event_place
            )
        )
    lines.append(choose)
    text = (
        "\n".join(lines)
        + "\n"
        + "".join(f"{choice}: {url}\n" for choice, url in zip(question.choices, urls, strict=True))
    )
    colour = escape(colour)  # checked as #rrggbb when saved; escaped all the same
    buttons = "".join(
        f'<p style="margin:8px 0"><a href="{escape(url)}" style="display:inline-block;'
        f"padding:10px 18px;background:{colour};color:#ffffff;text-decoration:none;"
        f'border-radius:4px;font-weight:bold">{escape(choice)}</a></p>'
        for choice, url in zip(question.choices, urls, strict=True)
    )
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in lines[:-1])
    html = (
        f'<div style="margin-top:24px;padding:16px;border:2px solid {colour}">'
        f'{paragraphs}<p style="font-weight:bold">{escape(choose)}</p>{buttons}</div>'
    )
    return QuestionBlock(text="\n\n" + text, html=html)


def sms_line(
    question: Question, links: MemberLinks, public_id: str, language: str, can_reply: bool
) -> str:
    """The last line of a question's text: how to answer."""
    words = _words(language)
    if can_reply:
        options = ", ".join(
            words["option"].format(n=n, choice=choice)
            for n, choice in enumerate(question.choices, start=1)
        )
        return words["reply"].format(options=options)
    return words["link"].format(url=links.answer_url(public_id, question.id))


def _words(language: str) -> dict[str, str]:
    return WORDING.get(language, WORDING["en"])
