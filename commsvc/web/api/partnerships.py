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
    partnership = organisation.create_partnership(current_actor(), json_body())
    return jsonify(organisation.partnership_json(partnership)), 201


@bp.get("/partnerships/<int:partnership_id>")
def get_partnership(partnership_id: int) -> Any:
    partnership = organisation.get_partnership(current_actor(), partnership_id)
    return jsonify(organisation.partnership_json(partnership))
