"""Finding members for the admin: search and filters, scoped to the actor's regions, paged."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from commsvc.errors import NotFound
from commsvc.extensions import db
from commsvc.models import Member, Region
from commsvc.models.member import member_partnerships
from commsvc.models.organisation import partnership_employers
from commsvc.services.accounts.actors import Actor, can_see_region

PAGE_SIZE = 50


@dataclass(frozen=True)
class MemberFilter:
    text: str = ""  # membership number, name, email or mobile, in part
    region_id: int | None = None
    partnership_id: int | None = None
    service_group: str = ""


def find_members(actor: Actor, wanted: MemberFilter, page: int = 1) -> tuple[list[Member], int]:
    """One page of matching members (not erased), and how many match in all."""
    query = select(Member).where(Member.erased_at.is_(None))
    if actor.region_ids is not None:
        query = query.where(Member.region_id.in_(actor.region_ids))
    if wanted.text:
        like = f"%{wanted.text.strip().lower()}%"
        query = query.where(
            or_(
                func.lower(Member.membership_number).like(like),
                func.lower(Member.first_name + " " + Member.last_name).like(like),
                func.lower(Member.email).like(like),
                Member.mobile.like(like.replace(" ", "")),
            )
        )
    if wanted.region_id:
        query = query.where(Member.region_id == wanted.region_id)
    if wanted.service_group:
        query = query.where(Member.service_group == wanted.service_group)
    if wanted.partnership_id:
        query = query.where(
            or_(
                Member.id.in_(
                    select(member_partnerships.c.member_id).where(
                        member_partnerships.c.partnership_id == wanted.partnership_id
                    )
                ),
                Member.employer_id.in_(
                    select(partnership_employers.c.employer_id).where(
                        partnership_employers.c.partnership_id == wanted.partnership_id
                    )
                ),
            )
        )
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(page, 1)
    members = db.session.scalars(
        query.order_by(Member.last_name, Member.first_name, Member.id)
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    )
    return list(members), int(total)


def visible_member(actor: Actor, membership_number: str) -> Member:
    """A member the actor may see; another region's answers exactly like a missing one."""
    member = db.session.scalar(select(Member).where(Member.membership_number == membership_number))
    if (
        member is None
        or member.erased_at is not None
        or not can_see_region(actor, member.region_id)
    ):
        raise NotFound(f"There is no member {membership_number}.")
    return member


def visible_regions(actor: Actor) -> list[Region]:
    query = select(Region).order_by(Region.name)
    if actor.region_ids is not None:
        query = query.where(Region.id.in_(actor.region_ids))
    return list(db.session.scalars(query))
