"""Previews: a bulletin exactly as chosen members will get it, on every channel.

A preview renders through the same compiled templates the workers use, with the
same variables, for one chosen member or for a sample (the first member of each
service group in the bulletin's audience that the actor may see). Its links, and a
test send's List-Unsubscribe, lead to a test-copy page and change nobody's choices.
A test send hands the rendered message to the configured gateways through a worker
task, addressed to the organiser, and is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from commsvc import queueing
from commsvc.errors import NotFound, ValidationError
from commsvc.extensions import db
from commsvc.models import Bulletin, Member
from commsvc.services.accounts import audit
from commsvc.services.accounts.actors import Actor, can_see_region, ensure_can_write
from commsvc.services.bulletins import (
    audience,
    branding,
    question_messages,
    questions,
    rendering,
    sms_segments,
)
from commsvc.services.bulletins.links import MemberLinks, TestCopyLinks
from commsvc.services.members import mobiles, records

SERVICE_GROUPS = ("health", "local_government")

PREVIEW_PUBLIC_ID = "preview"  # no member has it (theirs are random tokens)


@dataclass(frozen=True)
class Preview:
    """One member's messages, as their inbox and phone would show them."""

    label: str
    member: dict[str, str]
    email: rendering.RenderedEmail | None
    sms: str | None
    sms_count: sms_segments.SmsCount | None

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "member": self.member,
            "email": None
            if self.email is None
            else {"subject": self.email.subject, "text": self.email.text, "html": self.email.html},
            "sms": None
            if self.sms is None
            else {"text": self.sms, **(self.sms_count.as_json() if self.sms_count else {})},
        }


def preview(
    actor: Actor, bulletin: Bulletin, membership_number: str | None = None
) -> list[Preview]:
    """Render for one member (by number), or for a sample from each service group."""
    compiled = rendering.compile_bulletin(bulletin.subject, bulletin.email_body, bulletin.sms_body)
    if membership_number:
        member = records.get_member(membership_number)
        if member is None or member.erased_at or not can_see_region(actor, member.region_id):
            raise NotFound(f"There is no member {membership_number}.")
        chosen = [(f"{member.first_name} {member.last_name} ({membership_number})", member)]
    else:
        chosen = _sample(actor, bulletin)
    if not chosen:
        context = rendering.sample_context()
        return [_render(bulletin, compiled, "An example member (the audience is empty)", context)]
    return [_render(bulletin, compiled, label, member_context(bulletin, m)) for label, m in chosen]


def sender_of(bulletin: Bulletin) -> str:
    """The From line members see for this bulletin (its region's sender name)."""
    brand = branding.brand_for(bulletin.partnership.region_id)
    return branding.from_header(current_app.config["COMMSVC_EMAIL_FROM"], brand)


def member_context(bulletin: Bulletin, member: Member) -> dict[str, Any]:
    """The variables a template sees for one member, as the workers build them, except
    the links: a preview's lead to a test-copy page that changes nobody's choices."""
    config = current_app.config
    values = rendering.member_values_of(member)
    links = TestCopyLinks(config["COMMSVC_PUBLIC_URL"])
    shared = rendering.bulletin_context(bulletin)
    context = rendering.member_context(
        shared,
        values,
        links,
        member.public_id,
        bulletin.topic_id,
        replies=rendering.can_reply(config),
    )
    answer_links = MemberLinks(config["SECRET_KEY"], config["COMMSVC_PUBLIC_URL"])
    question = questions.question_for(bulletin.id) if bulletin.id else None
    if question is not None:
        # Answer links that open no member's page: a preview or a test send to an
        # organiser must never let them answer in a member's name.
        can_reply = rendering.can_reply(config)
        for channel in ("email", "sms"):
            context |= question_messages.context_for(
                question,
                answer_links,
                PREVIEW_PUBLIC_ID,
                member.language,
                channel,
                can_reply,
                colour=context["brand"]["colour"],
            )
    return context


def test_send(actor: Actor, bulletin: Bulletin, email: str = "", mobile: str = "") -> list[str]:
    """Queue the sample member's messages to the organiser's own address and number."""
    ensure_can_write(actor)
    email, mobile = email.strip(), mobile.strip()
    if not email and not mobile:
        raise ValidationError("Give your own email address or mobile number for a test send.")
    problems: list[str] = []
    if email:
        email = records._checked_email(email, problems) or ""
    if mobile:
        try:
            mobile = mobiles.usable_mobile(mobile)
        except ValidationError as error:
            problems.append(error.detail)
    if problems:
        raise ValidationError("; ".join(problems))
    (sample,) = preview(actor, bulletin)[:1]
    config = current_app.config
    queued = []
    if email and sample.email is not None:
        domain = urlsplit(config["COMMSVC_PUBLIC_URL"]).hostname or "localhost"
        message = {
            "subject": "[TEST] " + sample.email.subject,
            "text": sample.email.text,
            "html": sample.email.html,
            # List-Unsubscribe of a test copy changes nobody (mailto: delivery 0).
            "unsubscribe_url": TestCopyLinks(config["COMMSVC_PUBLIC_URL"]).unsubscribe_url(),
            "domain": domain,
            "sender": sender_of(bulletin),
        }
        queueing.enqueue(
            queueing.TaskNames.SEND_TEST_MESSAGE,
            "email",
            email,
            message,
            queue=queueing.Queues.EMAIL,
        )
        queued.append(email)
    if mobile and sample.sms is not None:
        queueing.enqueue(
            queueing.TaskNames.SEND_TEST_MESSAGE,
            "sms",
            mobile,
            {"body": sample.sms},
            queue=queueing.Queues.SMS,
        )
        queued.append(mobile)
    if not queued:
        raise ValidationError("This bulletin has no channel for the address you gave.")
    audit.record(actor.label, "bulletin.test_send", f"bulletin {bulletin.id}", sent_to=queued)
    db.session.commit()
    return queued


def _render(
    bulletin: Bulletin, compiled: rendering.CompiledBulletin, label: str, context: dict[str, Any]
) -> Preview:
    email = compiled.render_email(context) if "email" in bulletin.channels else None
    sms = compiled.render_sms(context) if "sms" in bulletin.channels else None
    return Preview(
        label=label,
        member=context["member"],
        email=email,
        sms=sms,
        sms_count=sms_segments.count(sms) if sms is not None else None,
    )


def _sample(actor: Actor, bulletin: Bulletin) -> list[tuple[str, Member]]:
    """The first member of each service group, among those the actor may see: a
    partnership's audience can hold members of other regions, who stay hidden."""
    in_audience = audience.members_query(bulletin.partnership_id, bulletin.audience)
    chosen = []
    for group in SERVICE_GROUPS:
        query = select(Member).where(Member.id.in_(in_audience), Member.service_group == group)
        if actor.region_ids is not None:
            query = query.where(Member.region_id.in_(actor.region_ids))
        member = db.session.scalar(query.order_by(Member.id).limit(1))
        if member is not None:
            label = "Health member" if group == "health" else "Local government member"
            chosen.append((f"{label}: {member.first_name} {member.last_name}", member))
    return chosen
