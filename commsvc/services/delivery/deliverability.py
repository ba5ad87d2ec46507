"""Deliverability for admins: bounce and complaint rates, and the suppression list.

Rates are over the emails sent in the last 30 days, per bulletin and per partnership,
against the 0.3% complaint line that Gmail, Yahoo and Microsoft hold bulk senders to
(bounces are shown against the same line: a list that bounces more is going stale).
The suppression list keeps only hashes of addresses, so it is searched by address
(hashed the same way); lifting a suppression is for admins, and audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select

from commsvc.errors import Forbidden, NotFound
from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery, DeliveryAttempt, Partnership, Suppression
from commsvc.models.base import utcnow
from commsvc.services.accounts import audit
from commsvc.services.accounts.actors import Actor
from commsvc.services.members.suppression import address_hash

WINDOW_DAYS = 30
LINE = 0.003  # 0.3%
PAGE_SIZE = 50


@dataclass(frozen=True)
class Rate:
    """One bulletin's or partnership's emails over the window."""

    label: str
    sent: int
    bounced: int
    complaints: int

    @property
    def bounce_rate(self) -> float:
        return self.bounced / self.sent if self.sent else 0.0

    @property
    def complaint_rate(self) -> float:
        return self.complaints / self.sent if self.sent else 0.0

    @property
    def over_line(self) -> bool:
        return self.bounce_rate > LINE or self.complaint_rate > LINE


@dataclass(frozen=True)
class SuppressionPage:
    rows: list[Suppression]
    page: int
    pages: int
    total: int


def rates(actor: Actor, now: datetime | None = None) -> tuple[list[Rate], list[Rate]]:
    """(per bulletin, per partnership), worst complaint rate first."""
    _admin_only(actor)
    since = (now or utcnow()) - timedelta(days=WINDOW_DAYS)
    complaints = (
        select(DeliveryAttempt.delivery_id)
        .where(DeliveryAttempt.outcome == "complaint")
        .distinct()
        .subquery()
    )
    rows = db.session.execute(
        select(
            Bulletin.id,
            Bulletin.title,
            Partnership.name,
            func.count(Delivery.id),
            func.sum(case((Delivery.status == "bounced", 1), else_=0)),
            func.count(complaints.c.delivery_id),
        )
        .join(Bulletin, Bulletin.id == Delivery.bulletin_id)
        .join(Partnership, Partnership.id == Bulletin.partnership_id)
        .outerjoin(complaints, complaints.c.delivery_id == Delivery.id)
        .where(Delivery.channel == "email", Delivery.sent_at >= since)
        .group_by(Bulletin.id, Bulletin.title, Partnership.name)
    ).all()
    by_bulletin = [
        Rate(f"{title} (#{bulletin_id})", sent, int(bounced or 0), complained)
        for bulletin_id, title, _partnership, sent, bounced, complained in rows
    ]
    totals: dict[str, list[int]] = {}
    for _id, _title, partnership, sent, bounced, complained in rows:
        total = totals.setdefault(partnership, [0, 0, 0])
        total[0] += sent
        total[1] += int(bounced or 0)
        total[2] += complained
    by_partnership = [Rate(name, *numbers) for name, numbers in totals.items()]
    order = lambda rate: (-rate.complaint_rate, -rate.bounce_rate, rate.label)  # noqa: E731
    return sorted(by_bulletin, key=order), sorted(by_partnership, key=order)


def suppressions(
    actor: Actor, address: str = "", reason: str = "", page: int = 1
) -> SuppressionPage:
    """The newest first; `address` finds an email address or mobile by its hash."""
    _admin_only(actor)
    query = select(Suppression)
    if address.strip():
        hashes = [address_hash("email", address), address_hash("sms", address)]
        query = query.where(Suppression.address_hash.in_(hashes))
    if reason:
        query = query.where(Suppression.reason == reason)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    rows = db.session.scalars(
        query.order_by(Suppression.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).all()
    return SuppressionPage(list(rows), page, pages, total)


def reasons() -> list[str]:
    return list(db.session.scalars(select(Suppression.reason).distinct().order_by("reason")))


def get_suppression(actor: Actor, suppression_id: int) -> Suppression:
    """One suppression, for the page that asks before lifting it."""
    _admin_only(actor)
    row = db.session.get(Suppression, suppression_id)
    if row is None:
        raise NotFound("No such suppression.")
    return row


def lift_suppression(actor: Actor, suppression_id: int) -> Suppression:
    """Send to the address again (an admin's decision, e.g. a mailbox fixed): audited."""
    _admin_only(actor)
    row = db.session.get(Suppression, suppression_id)
    if row is None:
        raise NotFound("No such suppression.")
    audit.record(
        actor.label,
        "suppression.lifted",
        f"suppression:{row.id}",
        channel=row.channel,
        reason=row.reason,
        since=row.created_at.isoformat(timespec="seconds"),
    )
    db.session.delete(row)
    db.session.commit()
    return row


def _admin_only(actor: Actor) -> None:
    if actor.role != "admin":
        raise Forbidden("Only admins can see and change deliverability.")
