"""Who is acting, reduced to what decisions need: a role and the regions it may see.

Scoping lives here and nowhere else: services ask `can_see_region(actor, …)` and
`ensure_can_write(actor)`, so the admin, the API and exports cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

from commsvc.errors import Forbidden
from commsvc.models import ApiKey, User


@dataclass(frozen=True)
class Actor:
    """An account or API key reduced to what decisions need."""

    label: str
    role: str
    region_ids: frozenset[int] | None  # None: every region

    @property
    def can_write(self) -> bool:
        return self.role in ("admin", "organiser")


SYSTEM = Actor(label="system", role="admin", region_ids=None)


def actor_for(account: User | ApiKey) -> Actor:
    """Only an admin sees every region; anyone else sees the regions they were given,
    and with none given sees none (fail closed: a forgotten `--region` hides, never leaks)."""
    regions = frozenset(r.id for r in account.regions)
    return Actor(
        label=account.label,
        role=account.role,
        region_ids=None if account.role == "admin" else regions,
    )


def ensure_can_write(actor: Actor) -> None:
    if not actor.can_write:
        raise Forbidden("This account can read but not change anything.")


def can_see_region(actor: Actor, region_id: int) -> bool:
    return actor.region_ids is None or region_id in actor.region_ids
