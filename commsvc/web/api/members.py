"""Members by membership number: upsert, read, export, erase."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from commsvc.errors import NotFound, ValidationError
from commsvc.extensions import db
from commsvc.models import Member, Region
from commsvc.services.accounts.actors import can_see_region, ensure_can_write
from commsvc.services.members import records, subject_rights
from commsvc.web.api import bp, current_actor, json_body


@bp.put("/members/<membership_number>")
def put_member(membership_number: str) -> Any:
    actor = current_actor()
    ensure_can_write(actor)
    body = json_body()
    if body.get("membership_number", membership_number) != membership_number:
        raise ValidationError("membership_number in the body differs from the one in the URL")
    existing = records.get_member(membership_number)
    if existing is not None and not can_see_region(actor, existing.region_id):
        raise NotFound(f"There is no member {membership_number}.")
    data = records.validate_member({**body, "membership_number": membership_number})
    region = db.session.query(Region).filter_by(name=data.region).one_or_none()
    if actor.region_ids is not None and (region is None or region.id not in actor.region_ids):
        raise ValidationError(f"There is no region called {data.region!r}.")
    member, _changed = records.upsert_member(data, source="api", actor=actor)
    db.session.commit()
    # Warnings name what was left out (an invalid address, a channel with no address).
    body = {**records.member_json(member), "warnings": data.warnings}
    return jsonify(body), 201 if existing is None else 200


@bp.get("/members/<membership_number>")
def get_member(membership_number: str) -> Any:
    return jsonify(records.member_json(_visible_member(membership_number)))


@bp.get("/members/<membership_number>/export")
def export_member(membership_number: str) -> Any:
    """Everything held about one member (a subject access request)."""
    return jsonify(subject_rights.export_member(_visible_member(membership_number)))


@bp.delete("/members/<membership_number>")
def erase_member(membership_number: str) -> Any:
    ensure_can_write(current_actor())
    subject_rights.erase_member(_visible_member(membership_number), current_actor().label)
    return jsonify(erased=True, membership_number=membership_number)


def _visible_member(membership_number: str) -> Member:
    member = records.get_member(membership_number)
    if member is None or not can_see_region(current_actor(), member.region_id):
        raise NotFound(f"There is no member {membership_number}.")
    return member
