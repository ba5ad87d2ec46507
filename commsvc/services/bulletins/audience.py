"""Who a bulletin reaches: a partnership's members, narrowed by filters, in SQL.

A member belongs to a partnership through their employer (one of the partnership's
member organisations) or explicitly. The audience is a SELECT streamed in chunks;
it never loads all members into memory. `decide` says, per member and channel,
whether a delivery is queued, skipped (the member's choice) or suppressed;
`audience_preview` (in audience_preview.py) counts the same decisions before sending.
This is the one place that says what a member gets, in two renderings kept equal by
a test over every combination of choices: `verdict` in Python (the send path asks it
again on the members' current rows while a batch goes, so a choice changed after
fan-out is honoured, and the preference page states it) and `choice_status_sql` in SQL
(fan-out writes a whole chunk of rows with it in one statement; the preview counts
with `wants_sql`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Select, and_, case, exists, func, not_, null, or_, select
from sqlalchemy.sql.elements import ColumnElement

from commsvc.errors import ValidationError
from commsvc.extensions import db
from commsvc.models import (
    Answer,
    Branch,
    Delivery,
    Employer,
    Member,
    Question,
    Region,
    TopicPreference,
)
from commsvc.models.member import member_partnerships
from commsvc.models.organisation import SERVICE_GROUPS, partnership_employers
from commsvc.services.members import suppression
from commsvc.statuses import DeliveryStatus

CHANNELS = ("email", "sms")
SERVICE = "service"
FILTERS = ("regions", "branches", "employers", "service_groups", "workplaces", "job_titles")
# The reminder: members who got that bulletin's question and have not answered it.
# Given as a bulletin id; kept among the filters as a one-item list of its digits.
NOT_ANSWERED = "not_answered"
STREAM_CHUNK = 2000


@dataclass(frozen=True)
class AudienceMember:
    """The columns fan-out and rendering need, without loading Member objects."""

    id: int
    public_id: str
    email: str | None
    mobile: str | None
    email_enabled: bool
    sms_enabled: bool
    opted_out: bool
    subscribed: bool


@dataclass(frozen=True)
class Verdict:
    """What one member gets on one channel, and why not when they get nothing."""

    address: str | None
    status: DeliveryStatus
    reason: str | None = None


def choice_columns() -> tuple[Any, ...]:
    """The columns of an AudienceMember, in order; the query must join `topic_choice`."""
    return (
        Member.id,
        Member.public_id,
        Member.email,
        Member.mobile,
        Member.email_enabled,
        Member.sms_enabled,
        Member.opted_out,
        func.coalesce(TopicPreference.subscribed, Member.all_topics).label("subscribed"),
    )


def topic_choice(topic_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """The outer-join condition that gives `choice_columns` the member's topic choice."""
    return and_(TopicPreference.member_id == Member.id, TopicPreference.topic_id == topic_id)


def clean_filters(raw: Any) -> dict[str, list[str]]:
    """Validate an audience filter object from the API or the admin."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValidationError("audience must be an object of filters")
    unknown = set(raw) - set(FILTERS) - {NOT_ANSWERED}
    if unknown:
        raise ValidationError(
            f"unknown audience filters: {', '.join(sorted(unknown))}; "
            f"use {', '.join(FILTERS)}, {NOT_ANSWERED}"
        )
    cleaned: dict[str, list[str]] = {}
    asked = raw.get(NOT_ANSWERED)
    if asked is not None:
        if not isinstance(asked, int) or isinstance(asked, bool) or not 0 < asked < 2**31:
            raise ValidationError("audience.not_answered must be the id (a number) of a bulletin")
        cleaned[NOT_ANSWERED] = [str(asked)]
    for name, values in raw.items():
        if name == NOT_ANSWERED:
            continue
        if values in (None, []):
            continue
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValidationError(f"audience.{name} must be a list of names")
        cleaned[name] = [v.strip() for v in values if v.strip()]
    for group in cleaned.get("service_groups", []):
        if group not in SERVICE_GROUPS:
            raise ValidationError(
                f"audience.service_groups: {group!r} is not health or local_government"
            )
    return cleaned


def members_query(partnership_id: int, filters: dict[str, list[str]]) -> Select[Any]:
    """Ids of the members in a partnership's audience, filters applied."""
    return select(Member.id).where(audience_condition(partnership_id, filters))


def audience_condition(partnership_id: int, filters: dict[str, list[str]]) -> ColumnElement[bool]:
    """The WHERE clause on `Member` that says who is in the audience (no join needed, so
    a query can add its own bounds on Member.id and the planner uses the primary key)."""
    in_partnership = or_(
        exists().where(
            member_partnerships.c.member_id == Member.id,
            member_partnerships.c.partnership_id == partnership_id,
        ),
        exists().where(
            partnership_employers.c.employer_id == Member.employer_id,
            partnership_employers.c.partnership_id == partnership_id,
        ),
    )
    conditions: list[ColumnElement[bool]] = [in_partnership, Member.erased_at.is_(None)]
    if filters.get("regions"):
        conditions.append(
            Member.region_id.in_(select(Region.id).where(Region.name.in_(filters["regions"])))
        )
    if filters.get("branches"):
        conditions.append(
            Member.branch_id.in_(select(Branch.id).where(Branch.name.in_(filters["branches"])))
        )
    if filters.get("employers"):
        conditions.append(
            Member.employer_id.in_(
                select(Employer.id).where(Employer.name.in_(filters["employers"]))
            )
        )
    if filters.get("service_groups"):
        conditions.append(Member.service_group.in_(filters["service_groups"]))
    if filters.get("workplaces"):
        conditions.append(Member.workplace.in_(filters["workplaces"]))
    if filters.get("job_titles"):
        conditions.append(Member.job_title.in_(filters["job_titles"]))
    if filters.get(NOT_ANSWERED):
        conditions.append(_not_answered(int(filters[NOT_ANSWERED][0])))
    return and_(*conditions)


def _not_answered(bulletin_id: int) -> ColumnElement[bool]:
    """Got the bulletin (a delivery reached the gateway) and no answer to its question."""
    got_it = exists().where(
        Delivery.bulletin_id == bulletin_id,
        Delivery.member_id == Member.id,
        Delivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.DELIVERED]),
    )
    answered = exists().where(
        Answer.member_id == Member.id,
        Answer.question_id.in_(select(Question.id).where(Question.bulletin_id == bulletin_id)),
    )
    return and_(got_it, ~answered)


def audience_size(partnership_id: int, filters: dict[str, list[str]]) -> int:
    subquery = members_query(partnership_id, filters).subquery()
    return int(db.session.scalar(select(func.count()).select_from(subquery)) or 0)


def stream_audience(
    partnership_id: int, filters: dict[str, list[str]], topic_id: int
) -> Iterator[list[AudienceMember]]:
    """Yield the audience in chunks, ordered by id, with each member's topic choice."""
    ids = members_query(partnership_id, filters).subquery()
    query = (
        select(*choice_columns())
        .join(ids, ids.c.id == Member.id)
        .outerjoin(TopicPreference, topic_choice(topic_id))
        .order_by(Member.id)
    )
    last_id = 0
    while True:  # keyset pages: bounded memory and no long-held cursor
        rows = db.session.execute(query.where(Member.id > last_id).limit(STREAM_CHUNK)).all()
        if not rows:
            return
        yield [AudienceMember(*row) for row in rows]
        last_id = rows[-1][0]


def address_for(member: AudienceMember, channel: str) -> str | None:
    return member.email if channel == "email" else member.mobile


def decide(member: AudienceMember, channel: str, topic_kind: str, suppressed: bool) -> str:
    """The first status of a delivery: queued, skipped (member's choice) or suppressed.

    The one rule, which the preference page also states (through `chosen_channels`):
    a campaign topic reaches a member on the channels they turned on, if they kept the
    topic and did not stop everything. A service topic (ballots, AGM notices) ignores
    topic choices and "stop everything" because the union's rules require it; it still
    follows the channel choice, and a member with every channel off gets it by email
    (by text when they have no email): never by nothing.
    """
    return verdict(member, channel, topic_kind, suppressed)[0]


def verdict(
    member: AudienceMember, channel: str, topic_kind: str, suppressed: bool
) -> tuple[DeliveryStatus, str | None]:
    """`decide`, with the reason a member gets nothing (recorded when a send withholds)."""
    if channel not in chosen_channels(member, topic_kind):
        if topic_kind != SERVICE and (not member.subscribed or member.opted_out):
            if member.opted_out:
                return DeliveryStatus.SKIPPED, "the member stopped all bulletins"
            return DeliveryStatus.SKIPPED, "the member is not subscribed to this topic"
        return DeliveryStatus.SKIPPED, f"the member turned off {channel}"
    if suppressed:
        return DeliveryStatus.SUPPRESSED, "the address is on the suppression list"
    return DeliveryStatus.QUEUED, None


def decide_chunk(
    members: list[AudienceMember], channel: str, topic_kind: str
) -> dict[int, Verdict]:
    """Verdicts for a chunk of members on one channel, by member id, with one suppression
    query; members without an address on that channel get none (no delivery for them)."""
    addresses = [a for m in members if (a := address_for(m, channel))]
    suppressed = suppression.suppressed_among(channel, addresses)
    verdicts: dict[int, Verdict] = {}
    for member in members:
        address = address_for(member, channel)
        if address:
            status, reason = verdict(member, channel, topic_kind, address in suppressed)
            verdicts[member.id] = Verdict(address, status, reason)
    return verdicts


def chosen_channels(member: AudienceMember, topic_kind: str) -> tuple[str, ...]:
    """The channels a member's own choices let a bulletin of this kind of topic use."""
    switched_on = tuple(c for c in CHANNELS if _is_on(member, c) and address_for(member, c))
    if topic_kind == SERVICE:
        return switched_on or service_fallback(member)
    if not member.subscribed or member.opted_out:
        return ()
    return switched_on


def service_fallback(member: AudienceMember) -> tuple[str, ...]:
    """Where service messages go when a member has turned every channel off."""
    if member.email:
        return ("email",)
    return ("sms",) if member.mobile else ()


def _is_on(member: AudienceMember, channel: str) -> bool:
    return member.email_enabled if channel == "email" else member.sms_enabled


# The same rule in SQL, for fan-out (one INSERT … SELECT per chunk) and the audience
# preview (one aggregate query). tests/services/bulletins/test_audience_rule_sql.py
# checks, for every combination of choices and addresses, that these say what
# `verdict` says; change both together.


def address_column(channel: str) -> Any:
    return Member.email if channel == "email" else Member.mobile


def has_address_sql(channel: str) -> ColumnElement[bool]:
    """`address_for(member, channel)` is truthy: set and not empty."""
    column = address_column(channel)
    return and_(column.is_not(None), column != "")


def _is_on_sql(channel: str) -> ColumnElement[bool]:
    return (Member.email_enabled if channel == "email" else Member.sms_enabled).is_(True)


def subscribed_sql() -> ColumnElement[bool]:
    """The member's choice of the topic; the query must outer-join `topic_choice`."""
    return func.coalesce(TopicPreference.subscribed, Member.all_topics).is_(True)


def wants_sql(channel: str, topic_kind: str) -> ColumnElement[bool]:
    """`channel in chosen_channels(member, topic_kind)`, in SQL."""
    if topic_kind == SERVICE:
        # The channels switched on, or the fallback (email, else text) when none is.
        if channel == "email":
            sms_on = and_(has_address_sql("sms"), _is_on_sql("sms"))
            return and_(has_address_sql("email"), or_(_is_on_sql("email"), not_(sms_on)))
        return and_(has_address_sql("sms"), or_(_is_on_sql("sms"), not_(has_address_sql("email"))))
    return and_(
        has_address_sql(channel),
        _is_on_sql(channel),
        subscribed_sql(),
        Member.opted_out.is_(False),
    )


def choice_status_sql(channel: str, topic_kind: str) -> tuple[Any, Any]:
    """(status, reason) of `verdict` for a member with an address on `channel`, before
    the suppression list: queued, or skipped with the member's own reason."""
    wants = wants_sql(channel, topic_kind)
    status = case((wants, str(DeliveryStatus.QUEUED)), else_=str(DeliveryStatus.SKIPPED))
    turned_off = f"the member turned off {channel}"
    if topic_kind == SERVICE:
        reason = case((wants, null()), else_=turned_off)
    else:
        reason = case(
            (wants, null()),
            (Member.opted_out.is_(True), "the member stopped all bulletins"),
            (not_(subscribed_sql()), "the member is not subscribed to this topic"),
            else_=turned_off,
        )
    return status, reason
