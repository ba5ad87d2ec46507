"""GET /api/v1/openapi.json: the document describing this API."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from commsvc.web.api import bp
from commsvc.web.api.spec import build_spec


@bp.get("/openapi.json")
def openapi() -> Any:
    return jsonify(build_spec())
