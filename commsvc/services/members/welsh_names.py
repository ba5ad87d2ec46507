"""The Welsh forms of topic and partnership names, set by organisers in the admin.

Member pages and Welsh bulletins show a name's Welsh form when it has one, else the
English name. Topics are shared across the union, so only admins name them; an
organiser names the partnerships of their own regions.
"""

from __future__ import annotations

from commsvc.errors import Forbidden, ValidationError
from commsvc.extensions import db
from commsvc.models import Partnership, Topic
from commsvc.services.accounts import audit
from commsvc.services.accounts.actors import Actor, ensure_can_write
from commsvc.services.members import organisation

NAME_LIMIT = 120


def set_welsh_names(actor: Actor, topics: dict[int, str], partnerships: dict[int, str]) -> int:
    """Save the Welsh names given (an empty one clears it); returns how many changed."""
    ensure_can_write(actor)
    changed = 0
    if topics and actor.region_ids is not None:
        raise Forbidden("Only an admin names topics, which every region shares.")
    for topic_id, name in topics.items():
        topic = db.session.get(Topic, topic_id)
        if topic is not None:
            changed += _set(topic, _clean(name))
    for partnership_id, name in partnerships.items():
        partnership: Partnership = organisation.get_partnership(actor, partnership_id)
        changed += _set(partnership, _clean(name))
    if changed:
        audit.record(actor.label, "welsh_names.update", f"{changed} names")
    db.session.commit()
    return changed


def _set(item: Topic | Partnership, name: str) -> int:
    if item.name_cy == name:
        return 0
    item.name_cy = name
    return 1


def _clean(name: str) -> str:
    cleaned = " ".join(name.split())
    if len(cleaned) > NAME_LIMIT:
        raise ValidationError(f"A Welsh name may be at most {NAME_LIMIT} characters.")
    return cleaned
