"""Which language version of a bulletin each member gets, and what it is made of.

A member whose language is `cy` gets the Welsh version of a channel when the organiser
wrote one (`email_body_cy` for email, `sms_body_cy` for SMS), else the English one;
everyone else gets English. A version is whole: its words, the layout's words, the
`lang` of its HTML and the Welsh names of the partnership and topic, so a member never
gets English text labelled Welsh or half of each. Workers, previews and web copies
all ask here.
"""

from __future__ import annotations

from typing import Any

from commsvc.models import Bulletin
from commsvc.services.bulletins import branding

ENGLISH, WELSH = "en", "cy"
VERSIONS = (ENGLISH, WELSH)


def version_for(bulletin: Any, member_language: str | None, channel: str) -> str:
    """`cy` when this member reads Welsh and the channel has a Welsh text; else `en`."""
    if member_language != WELSH:
        return ENGLISH
    welsh_text = bulletin.email_body_cy if channel == "email" else bulletin.sms_body_cy
    return WELSH if (welsh_text or "").strip() else ENGLISH


def sources(bulletin: Bulletin, version: str) -> tuple[str, str, str]:
    """(subject, email body, SMS body) of one version; Welsh gaps fall back to English."""
    if version != WELSH:
        return bulletin.subject, bulletin.email_body, bulletin.sms_body
    return (
        bulletin.subject_cy or bulletin.subject,
        bulletin.email_body_cy or bulletin.email_body,
        bulletin.sms_body_cy or bulletin.sms_body,
    )


def shared_context(bulletin: Bulletin, version: str) -> dict[str, Any]:
    """The variables every member of one version shares, names in that language."""
    welsh = version == WELSH
    partnership, topic = bulletin.partnership, bulletin.topic
    return {
        "partnership": {
            "name": (partnership.name_cy if welsh else "") or partnership.name,
            "kind": partnership.kind,
        },
        "bulletin": {
            "title": bulletin.title,
            "topic": (topic.name_cy if welsh else "") or topic.name,
        },
        "organiser": {"email": bulletin.created_by},
        "brand": branding.email_values(branding.brand_for(partnership.region_id), version),
    }
