"""What a message to the bounce domain changes: bounces, complaints, mailto unsubscribes.

The bounce server (`commsvc/bounce_server.py`) has already refused every recipient
that is not ours (a VERP address whose MAC checks, `fbl@`, `abuse@`); this module is
handed the message and the recipients it accepted, and changes exactly one member:
- a hard bounce: the delivery becomes `bounced` and the address is suppressed;
- a soft bounce: recorded on the delivery; after COMMSVC_SOFT_BOUNCE_LIMIT soft
  bounces in a row, over that many of the member's latest emails, the address is
  suppressed;
- a complaint: the address is suppressed and the member's campaign topics stopped
  (`opted_out`, as "stop everything"), with a consent record;
- a mail to the List-Unsubscribe mailto: the bulletin's topic is stopped, as the
  one-click POST does;
- an auto-reply or anything unrecognised: nothing.
A complaint names its delivery only through something carrying a MAC (the VERP
address it was sent to, its Original-Mail-From or quoted Return-Path, or the quoted
Message-ID): a bare X-Commsvc-Delivery header is not trusted, as anyone can write one.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery, DeliveryAttempt, Member
from commsvc.services.delivery import receipts
from commsvc.services.delivery.bounce_reports import Report, ReportKind, read_report
from commsvc.services.delivery.verp import Kind, Recipient, Verp
from commsvc.services.members import preferences, suppression


@dataclass(frozen=True)
class Handled:
    """What a message did: its kind and the delivery it concerned (None: none found)."""

    kind: str
    delivery_id: int | None = None


def handle_message(
    raw: bytes, recipients: list[Recipient], verp: Verp, soft_bounce_limit: int
) -> Handled:
    """Act on one message that the bounce server accepted for these recipients."""
    unsubscribe = next((r for r in recipients if r.kind == Kind.UNSUBSCRIBE), None)
    if unsubscribe is not None and unsubscribe.delivery_id is not None:
        return _unsubscribe(unsubscribe.delivery_id)
    report = read_report(raw)
    verp_delivery = next(
        (r.delivery_id for r in recipients if r.kind == Kind.BOUNCE and r.delivery_id), None
    )
    if report.kind == ReportKind.COMPLAINT:
        return _complaint(verp_delivery or _complained_delivery(report, verp), report)
    if report.kind in (ReportKind.HARD_BOUNCE, ReportKind.SOFT_BOUNCE) and verp_delivery:
        if report.kind == ReportKind.HARD_BOUNCE:
            receipts.apply_email_event(None, str(verp_delivery), "bounce", True, report.reason)
            return Handled(report.kind, verp_delivery)
        return _soft_bounce(verp_delivery, report, soft_bounce_limit)
    return Handled(report.kind if report.kind == ReportKind.AUTO_REPLY else ReportKind.UNKNOWN)


def _unsubscribe(delivery_id: int) -> Handled:
    row = db.session.execute(
        select(Delivery.member_id, Bulletin.topic_id)
        .join(Bulletin, Bulletin.id == Delivery.bulletin_id)
        .where(Delivery.id == delivery_id)
    ).first()
    member = db.session.get(Member, row.member_id) if row else None
    if row is None or member is None or member.erased_at is not None:
        return Handled("unknown")
    preferences.unsubscribe_topic(member, row.topic_id, source="mailto")
    return Handled("unsubscribe", delivery_id)


def _complained_delivery(report: Report, verp: Verp) -> int | None:
    for sender in report.original_senders:
        recipient = verp.read(sender)
        if recipient is not None and recipient.kind == Kind.BOUNCE:
            return recipient.delivery_id
    for message_id in report.original_message_ids:
        delivery_id = verp.read_message_id(message_id)
        if delivery_id is not None:
            return delivery_id
    return None


def _complaint(delivery_id: int | None, report: Report) -> Handled:
    delivery = db.session.get(Delivery, delivery_id) if delivery_id else None
    if delivery is None or delivery.channel != "email":
        return Handled("unknown")
    receipts.apply_email_event(None, str(delivery.id), "complaint", False, report.reason)
    member = db.session.get(Member, delivery.member_id)
    if member is not None and not member.opted_out:
        preferences.stop_campaigns(member, source="complaint", detail={"delivery": delivery.id})
    return Handled(ReportKind.COMPLAINT, delivery.id)


def _soft_bounce(delivery_id: int, report: Report, limit: int) -> Handled:
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.channel != "email":
        return Handled("unknown")
    db.session.add(
        DeliveryAttempt(
            delivery_id=delivery.id,
            outcome=ReportKind.SOFT_BOUNCE,
            provider=delivery.provider,
            reason=report.reason[:500],
        )
    )
    db.session.commit()
    if _soft_bounces_in_a_row(delivery.member_id, limit):
        address = db.session.scalar(select(Member.email).where(Member.id == delivery.member_id))
        if address:
            suppression.suppress("email", address, "soft_bounces")
            db.session.commit()
    return Handled(ReportKind.SOFT_BOUNCE, delivery.id)


def _soft_bounces_in_a_row(member_id: int, limit: int) -> bool:
    """Whether each of the member's latest `limit` emails (one per bulletin) soft-bounced."""
    latest = db.session.scalars(
        select(Delivery.id)
        .where(Delivery.member_id == member_id, Delivery.channel == "email")
        .order_by(Delivery.id.desc())
        .limit(limit)
    ).all()
    if len(latest) < limit:
        return False
    bounced = set(
        db.session.scalars(
            select(DeliveryAttempt.delivery_id).where(
                DeliveryAttempt.delivery_id.in_(latest),
                DeliveryAttempt.outcome == ReportKind.SOFT_BOUNCE,
            )
        )
    )
    return bounced == set(latest)
