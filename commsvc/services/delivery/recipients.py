"""The members behind a batch's deliveries as they are now: address, choices, names.

Fan-out decided once who gets a bulletin; a member may reply STOP, unsubscribe,
bounce or change their mobile while it is still going out. The send path loads its
recipients here when a batch starts (`load`) and rechecks the deliveries about to
go as it sends (`recheck`), so such a change is honoured from then on.
One query (and one suppression lookup) each, whatever the batch size; the verdict is
`audience.decide_chunk`'s, the one rule for what a member gets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Integer, Select, bindparam, select

from commsvc.extensions import db
from commsvc.models import Branch, Delivery, Employer, Member, Region, TopicPreference, id_lists
from commsvc.services.bulletins import audience, rendering
from commsvc.statuses import DeliveryStatus

Verdicts = dict[int, "audience.Verdict | None"]  # by delivery id; None: no address any more


@dataclass(frozen=True)
class Recipient:
    delivery_id: int
    public_id: str
    address: str | None  # None: erased, or no address on this channel any more
    status: DeliveryStatus  # queued: send it; skipped or suppressed: withhold it
    reason: str | None
    member: dict[str, str]  # the member's values for rendering
    language: str  # the member's language (a question's words follow it)
    created_at: datetime  # when the fan-out made the delivery: send latency counts from it

    @property
    def is_sendable(self) -> bool:
        return self.address is not None and self.status == DeliveryStatus.QUEUED

    def now(self, verdicts: Verdicts | None) -> Recipient:
        """This recipient as a later `recheck` found them (None: as loaded)."""
        if verdicts is None or self.delivery_id not in verdicts:
            return self
        verdict = verdicts[self.delivery_id]
        if verdict is not None and (verdict.address, verdict.status, verdict.reason) == (
            self.address,
            self.status,
            self.reason,
        ):
            return self  # unchanged, as nearly always: no copy per message
        return replace(
            self,
            address=verdict.address if verdict else None,
            status=verdict.status if verdict else DeliveryStatus.QUEUED,
            reason=verdict.reason if verdict else None,
        )


def load(
    delivery_ids: list[int], channel: str, topic_id: int, topic_kind: str
) -> dict[int, Recipient]:
    """The recipients of these deliveries (all of one channel), by delivery id."""
    if not delivery_ids:
        return {}
    rows = db.session.execute(
        _load_statement(db.engine.dialect.name), _parameters(delivery_ids, topic_id)
    ).all()
    width = len(audience.choice_columns())
    members = {row[0]: audience.AudienceMember(*row[2 : 2 + width]) for row in rows}
    verdicts = audience.decide_chunk(list(members.values()), channel, topic_kind)
    recipients: dict[int, Recipient] = {}
    for row in rows:
        delivery_id, member = row[0], members[row[0]]
        verdict = verdicts.get(member.id)
        recipients[delivery_id] = Recipient(
            delivery_id=delivery_id,
            public_id=member.public_id,
            address=verdict.address if verdict else None,
            status=verdict.status if verdict else DeliveryStatus.QUEUED,
            reason=verdict.reason if verdict else None,
            member=_render_values(row[2 + width : -4] + row[-3:]),
            language=row[-4] or "en",
            created_at=row[1],
        )
    return recipients


def recheck(delivery_ids: list[int], channel: str, topic_id: int, topic_kind: str) -> Verdicts:
    """The verdicts of these deliveries now (None: no address any more), by delivery id.

    Only what decides whether a member gets the message is read again (choices and
    addresses, and the suppression list); names stay as `load` read them."""
    if not delivery_ids:
        return {}
    rows = db.session.execute(
        _recheck_statement(db.engine.dialect.name), _parameters(delivery_ids, topic_id)
    ).all()
    members = {row[0]: audience.AudienceMember(*row[1:]) for row in rows}
    verdicts = audience.decide_chunk(list(members.values()), channel, topic_kind)
    return {delivery_id: verdicts.get(m.id) for delivery_id, m in members.items()}


# Both statements are built once per process and SQL dialect: building and keying the
# load's five-table join each time cost more CPU than running it (7 ms against 3 for a
# batch of 500), and a recheck runs several times a second. The ids go as one
# parameter, not an IN list (models/id_lists.py).


@lru_cache(maxsize=2)
def _load_statement(dialect: str) -> Select[Any]:
    return (
        select(
            Delivery.id,
            Delivery.created_at,
            *audience.choice_columns(),
            Member.first_name,
            Member.last_name,
            Member.membership_number,
            Member.workplace,
            Member.job_title,
            Member.service_group,
            Member.language,
            Region.name,
            Branch.name,
            Employer.name,
        )
        .join(Member, Member.id == Delivery.member_id)
        .join(Region, Region.id == Member.region_id)
        .outerjoin(Branch, Branch.id == Member.branch_id)
        .outerjoin(Employer, Employer.id == Member.employer_id)
        .outerjoin(TopicPreference, audience.topic_choice(bindparam("topic_id", type_=Integer)))
        .where(id_lists.among_parameter(Delivery.id, "delivery_ids", dialect))
    )


@lru_cache(maxsize=2)
def _recheck_statement(dialect: str) -> Select[Any]:
    return (
        select(Delivery.id, *audience.choice_columns())
        .join(Member, Member.id == Delivery.member_id)
        .outerjoin(TopicPreference, audience.topic_choice(bindparam("topic_id", type_=Integer)))
        .where(id_lists.among_parameter(Delivery.id, "delivery_ids", dialect))
    )


def _parameters(delivery_ids: list[int], topic_id: int) -> dict[str, Any]:
    return {"delivery_ids": id_lists.value(delivery_ids), "topic_id": topic_id}


def _render_values(values: Any) -> dict[str, str]:
    (
        first_name,
        last_name,
        number,
        workplace,
        job_title,
        service_group,
        region_name,
        branch_name,
        employer_name,
    ) = values
    return rendering.member_context_values(
        first_name=first_name,
        last_name=last_name,
        membership_number=number,
        workplace=workplace,
        job_title=job_title,
        service_group=service_group,
        region=region_name,
        branch=branch_name or "",
        employer=employer_name or "",
    )
