"""A partnership's rules for sending: whether a second organiser must approve each
bulletin, and above how many members the organiser types the number to confirm.

Only an admin changes them: an organiser must not be able to lift the check that is
there to catch their own slip. Every change is audited.
"""

from __future__ import annotations

from commsvc.errors import Forbidden, ValidationError
from commsvc.extensions import db
from commsvc.models import Partnership
from commsvc.services.accounts import audit
from commsvc.services.accounts.actors import Actor

CONFIRM_ABOVE_LIMIT = 10_000_000


def set_rules(
    actor: Actor, partnership: Partnership, requires_approval: bool, confirm_above: str
) -> None:
    """Save both rules; a number that is not a whole number of members is refused."""
    if actor.role != "admin":
        raise Forbidden("Only an admin can change a partnership's rules for sending.")
    cleaned = confirm_above.strip().replace(",", "")
    if not cleaned.isdigit() or int(cleaned) > CONFIRM_ABOVE_LIMIT:
        raise ValidationError(
            "Enter the number of members as a whole number, for example 500.",
            field=f"confirm_above-{partnership.id}",
        )
    partnership.requires_approval = requires_approval
    partnership.confirm_above = int(cleaned)
    audit.record(
        actor.label,
        "partnership.rules",
        f"partnership {partnership.id}",
        requires_approval=requires_approval,
        confirm_above=int(cleaned),
    )
    db.session.commit()
