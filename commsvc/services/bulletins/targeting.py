"""What an organiser can narrow a partnership's audience by: the region's branches, the
partnership's employers, the workplaces its members name, and the service groups.

Only choices that can match are offered, so a ticked box never silently empties the
audience because of a spelling; the names are the ones `audience.members_query` filters on.
"""

from __future__ import annotations

from sqlalchemy import select

from commsvc.extensions import db
from commsvc.models import Branch, Member, Partnership
from commsvc.models.organisation import SERVICE_GROUPS
from commsvc.services.bulletins.audience import members_query

WORKPLACE_CHOICES = 200  # beyond this, the form would be a wall of boxes

SERVICE_GROUP_LABELS = {"health": "Health", "local_government": "Local government"}


def choices(partnership: Partnership) -> dict[str, list[tuple[str, str]]]:
    """{filter name: [(value, label)]} for the compose page's targeting boxes."""
    ids = members_query(partnership.id, {}).subquery()
    workplaces = db.session.scalars(
        select(Member.workplace)
        .join(ids, ids.c.id == Member.id)
        .where(Member.workplace.is_not(None), Member.workplace != "")
        .distinct()
        .order_by(Member.workplace)
        .limit(WORKPLACE_CHOICES)
    ).all()
    branches = db.session.scalars(
        select(Branch.name).where(Branch.region_id == partnership.region_id).order_by(Branch.name)
    ).all()
    employers = sorted(e.name for e in partnership.employers)
    return {
        "branches": [(b, b) for b in branches],
        "employers": [(e, e) for e in employers],
        "workplaces": [(w, w) for w in workplaces],
        "service_groups": [(g, SERVICE_GROUP_LABELS.get(g, g)) for g in SERVICE_GROUPS],
    }
