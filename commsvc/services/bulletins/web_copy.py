"""A bulletin on the web: each member's own copy (behind a signed link in their email),
and a partnership's public archive of the bulletins its organisers marked public.

A member's copy is rendered exactly as their email was (same version, same variables),
so "view in a browser" shows what arrived. The public copy replaces every personal
field with a neutral word and every member link with the archive page, so nothing about
any member can appear in it.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy import select

from commsvc.errors import NotFound
from commsvc.extensions import db
from commsvc.models import Bulletin, Member, Partnership
from commsvc.services.bulletins import rendering, versions
from commsvc.services.bulletins.links import MemberLinks
from commsvc.statuses import BulletinStatus

_PUBLISHED = (BulletinStatus.SENDING, BulletinStatus.PAUSED, BulletinStatus.SENT)
NEUTRAL_MEMBER = {
    "first_name": "colleague",
    "last_name": "",
    "membership_number": "",
    "branch": "your branch",
    "employer": "your employer",
    "workplace": "your workplace",
    "job_title": "",
    "service_group": "",
    "region": "",
}


def member_copy(bulletin_id: int, member: Member) -> str:
    """The HTML of the email this member got (or will get) for this bulletin."""
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is None or bulletin.status not in _PUBLISHED or "email" not in bulletin.channels:
        raise NotFound("This bulletin is not available.")
    version = versions.version_for(bulletin, member.language, "email")
    config = current_app.config
    links = MemberLinks(config["SECRET_KEY"], config["COMMSVC_PUBLIC_URL"])
    values = rendering.member_values_of(member)
    context = rendering.member_context(
        versions.shared_context(bulletin, version),
        values,
        links,
        member.public_id,
        bulletin.topic_id,
        bulletin.id,
        replies=rendering.can_reply(config),
    )
    return _compiled(bulletin, version).render_email(context).html


def public_bulletins(
    partnership_id: int, language: str
) -> tuple[Partnership, list[tuple[Bulletin, str]]]:
    """A partnership's archive: its public bulletins that have gone out, newest first,
    each with its subject as the public sees it (neutral personal fields)."""
    partnership = db.session.get(Partnership, partnership_id)
    if partnership is None:
        raise NotFound("There is no such archive.")
    found = db.session.scalars(
        select(Bulletin)
        .where(
            Bulletin.partnership_id == partnership_id,
            Bulletin.public.is_(True),
            Bulletin.status.in_([str(s) for s in _PUBLISHED]),
        )
        .order_by(Bulletin.started_at.desc(), Bulletin.id.desc())
    )
    listed = []
    for bulletin in found:
        version = versions.version_for(bulletin, language, "email")
        context = _public_context(bulletin, version, "")
        listed.append((bulletin, _compiled(bulletin, version).render_email(context).subject))
    return partnership, listed


def public_copy(partnership_id: int, bulletin_id: int, language: str, archive_url: str) -> str:
    """A public bulletin's HTML with neutral personal fields and no member links."""
    bulletin = db.session.get(Bulletin, bulletin_id)
    if (
        bulletin is None
        or bulletin.partnership_id != partnership_id
        or not bulletin.public
        or bulletin.status not in _PUBLISHED
    ):
        raise NotFound("There is no such bulletin in this archive.")
    version = versions.version_for(bulletin, language, "email")
    context = _public_context(bulletin, version, archive_url)
    return _compiled(bulletin, version).render_email(context).html


def _public_context(bulletin: Bulletin, version: str, archive_url: str) -> dict[str, Any]:
    return {
        **versions.shared_context(bulletin, version),
        "member": rendering.member_context_values(**NEUTRAL_MEMBER),
        "preferences_url": archive_url,
        "unsubscribe_url": archive_url,
        "web_copy_url": archive_url,
    }


def _compiled(bulletin: Bulletin, version: str) -> rendering.CompiledBulletin:
    return rendering.compile_bulletin(*versions.sources(bulletin, version), language=version)
