"""GET and POST /partnerships."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from commsvc.services.members import organisation
from commsvc.web.api import bp, current_actor, json_body


@bp.get("/partnerships")
def list_partnerships() -> Any:
    items = organisation.list_partnerships(current_actor())
    return jsonify(items=[organisation.partnership_json(p) for p in items])


@bp.post("/partnerships")
def create_partnership() -> Any:
    body = json_body()
    employers = body.get("employers")
    if isinstance(employers, list) and all(isinstance(e, str) for e in employers):
        # A name given twice is one employer (twice would break the link table's key).
        body["employers"] = list(dict.fromkeys(e.strip() for e in employers))
    partnership = organisation.create_partnership(current_actor(), body)
    return jsonify(organisation.partnership_json(partnership)), 201


@bp.get("/partnerships/<int:partnership_id>")
def get_partnership(partnership_id: int) -> Any:
    partnership = organisation.get_partnership(current_actor(), partnership_id)
    return jsonify(organisation.partnership_json(partnership))
