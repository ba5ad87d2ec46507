"""The REST API, /api/v1: JSON in, JSON out, Bearer API keys.

Errors are answered here and only here, as {"error", "detail"} with a 4xx status;
bad input never becomes a 500.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from commsvc import auth
from commsvc.auth import Actor
from commsvc.errors import CommsvcError
from commsvc.extensions import db

bp = Blueprint("api", __name__, url_prefix="/api/v1")

PUBLIC_ENDPOINTS = {"api.openapi"}


@bp.before_request
def _authenticate() -> Any:
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    key = auth.authenticate_api_key(token.strip()) if scheme.lower() == "bearer" else None
    if key is None:
        response = jsonify(
            error="unauthorized", detail="Send a valid API key as 'Authorization: Bearer KEY'."
        )
        response.status_code = 401
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    g.actor = auth.actor_for(key)
    return None


def current_actor() -> Actor:
    actor: Actor = g.actor
    return actor


def json_body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise CommsvcError("The body must be a JSON object (Content-Type: application/json).")
    return data


@bp.errorhandler(CommsvcError)
def _domain_error(error: CommsvcError) -> Any:
    db.session.rollback()
    return jsonify(error=error.code, detail=error.detail), error.http_status


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    return jsonify(
        error=(error.name or "error").lower().replace(" ", "_"), detail=error.description
    ), error.code


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
def _unrouted(error: HTTPException) -> Any:
    """Unknown URLs under /api/ answer in JSON too; elsewhere Flask's page stands."""
    if request.path.startswith(str(bp.url_prefix)):
        return _http_error(error)
    return error


from commsvc.web.api import (  # noqa: E402,F401
    audience,
    bulletins,
    members,
    openapi,
    partnerships,
)
