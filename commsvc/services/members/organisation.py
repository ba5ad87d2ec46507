"""Regions, branches, employers, partnerships and topics: find, create, list."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select

from commsvc.errors import NotFound, ValidationError
from commsvc.extensions import db
from commsvc.models import Branch, Employer, Member, Partnership, Region, Topic
from commsvc.models.organisation import PARTNERSHIP_KINDS, TOPIC_KINDS, partnership_employers
from commsvc.services.accounts.actors import Actor, can_see_region, ensure_can_write

T = TypeVar("T", Region, Employer, Topic)


def region_named(name: str) -> Region:
    return _named(Region, name)


def employer_named(name: str) -> Employer:
    return _named(Employer, name)


def topic_named(name: str, kind: str = "campaign") -> Topic:
    if kind not in TOPIC_KINDS:
        raise ValidationError(f"topic kind must be one of {', '.join(TOPIC_KINDS)}")
    topic = db.session.scalar(select(Topic).where(Topic.name == name))
    if topic is None:
        topic = Topic(name=name, kind=kind)
        db.session.add(topic)
        db.session.flush()
    return topic


def branch_named(name: str, region: Region) -> Branch:
    branch = db.session.scalar(select(Branch).where(Branch.name == name))
    if branch is None:
        branch = Branch(name=name, region=region)
        db.session.add(branch)
        db.session.flush()
    return branch


def partnership_named(name: str, region: Region) -> Partnership:
    """Find a partnership by name, creating it in `region` when new (CSV import)."""
    partnership = db.session.scalar(select(Partnership).where(Partnership.name == name))
    if partnership is None:
        partnership = Partnership(name=name, kind="other", region=region)
        db.session.add(partnership)
        db.session.flush()
    return partnership


def branch_for(actor: Actor, name: str, region: Region) -> Branch:
    """The branch a member of `region` names, as `actor` may see it.

    Another region's branch answers exactly like a missing one to an organiser of
    other regions; a new name is created in the member's region.
    """
    branch = db.session.scalar(select(Branch).where(Branch.name == name))
    if branch is not None and not can_see_region(actor, branch.region_id):
        raise ValidationError(f"There is no branch called {name!r} in {region.name}.")
    return branch or branch_named(name, region)


def employer_for(actor: Actor, name: str) -> Employer:
    """An employer by name as `actor` may use it: one known only in other regions (through
    their partnerships or members) answers like a missing one; a new name is created."""
    employer = db.session.scalar(select(Employer).where(Employer.name == name))
    if employer is not None and not can_use_employer(actor, employer.id):
        raise ValidationError(f"There is no employer called {name!r}.")
    return employer or employer_named(name)


def partnership_for(actor: Actor, name: str, region: Region) -> Partnership:
    """A partnership a member of `region` joins, by name, as `actor` may see it.

    Admins (every region) create a missing one in the member's region, as the CSV import
    always has. An organiser only names partnerships of their own regions: a missing one
    and another region's answer the same "no such partnership" (they create partnerships
    with `create_partnership`).
    """
    if actor.region_ids is None:
        return partnership_named(name, region)
    partnership = db.session.scalar(select(Partnership).where(Partnership.name == name))
    if partnership is None or not can_see_region(actor, partnership.region_id):
        raise ValidationError(f"There is no partnership called {name!r}.")
    return partnership


def can_use_employer(actor: Actor, employer_id: int) -> bool:
    """True unless every use of the employer (partnerships, members) is in regions the
    actor cannot see; an employer nobody uses yet belongs to no region."""
    if actor.region_ids is None:
        return True
    used_in = set(
        db.session.scalars(
            select(Partnership.region_id)
            .join(partnership_employers, partnership_employers.c.partnership_id == Partnership.id)
            .where(partnership_employers.c.employer_id == employer_id)
            .distinct()
        )
    ) | set(
        db.session.scalars(
            select(Member.region_id).where(Member.employer_id == employer_id).distinct()
        )
    )
    return not used_in or bool(used_in & actor.region_ids)


def list_partnerships(actor: Actor) -> list[Partnership]:
    query = select(Partnership).order_by(Partnership.name)
    if actor.region_ids is not None:
        query = query.where(Partnership.region_id.in_(actor.region_ids))
    return list(db.session.scalars(query))


def get_partnership(actor: Actor, partnership_id: int) -> Partnership:
    """A partnership the actor may see; another region's answers exactly like a missing one."""
    partnership = (
        db.session.get(Partnership, partnership_id) if 0 < partnership_id < 2**31 else None
    )
    if partnership is None or not can_see_region(actor, partnership.region_id):
        raise NotFound(f"There is no partnership {partnership_id}.")
    return partnership


def create_partnership(actor: Actor, data: dict[str, Any]) -> Partnership:
    ensure_can_write(actor)
    name = _text(data, "name", 200)
    kind = data.get("kind", "other")
    if kind not in PARTNERSHIP_KINDS:
        raise ValidationError(f"kind must be one of {', '.join(PARTNERSHIP_KINDS)}")
    region_name = _text(data, "region", 120)
    employers = data.get("employers", [])
    if not isinstance(employers, list) or not all(
        isinstance(e, str) and e.strip() for e in employers
    ):
        raise ValidationError("employers must be a list of employer names")
    region = db.session.scalar(select(Region).where(Region.name == region_name))
    if region is None:
        if actor.region_ids is not None:
            raise ValidationError(f"There is no region called {region_name!r}.")
        region = region_named(region_name)
    if not can_see_region(actor, region.id):
        raise ValidationError(f"There is no region called {region_name!r}.")
    if db.session.scalar(select(Partnership).where(Partnership.name == name)):
        raise ValidationError(f"A partnership called {name!r} exists already.")
    name_cy = data.get("name_cy") or ""
    if not isinstance(name_cy, str) or len(name_cy) > 200:
        raise ValidationError("name_cy must be text of at most 200 characters")
    partnership = Partnership(
        name=name,
        name_cy=" ".join(name_cy.split()),
        kind=kind,
        region=region,
        requires_approval=bool(data.get("requires_approval", False)),
        # A name given twice is one employer (twice would break the link table's key).
        employers=[employer_for(actor, e) for e in dict.fromkeys(e.strip() for e in employers)],
    )
    db.session.add(partnership)
    db.session.commit()
    return partnership


def partnership_json(partnership: Partnership) -> dict[str, Any]:
    return {
        "id": partnership.id,
        "name": partnership.name,
        "kind": partnership.kind,
        "region": partnership.region.name,
        "employers": sorted(e.name for e in partnership.employers),
        "requires_approval": partnership.requires_approval,
    }


def _named(model: type[T], name: str) -> T:
    found = db.session.scalar(select(model).where(model.name == name))
    if found is None:
        found = model(name=name)
        db.session.add(found)
        db.session.flush()
    return found


def _text(data: dict[str, Any], field: str, limit: int) -> str:
    value = data.get(field)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"{field} is required and must be text")
    if len(value.strip()) > limit:
        raise ValidationError(f"{field} must be at most {limit} characters")
    return value.strip()
