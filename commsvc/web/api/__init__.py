"""The REST API, /api/v1: JSON in, JSON out, Bearer API keys.

Errors are answered here and only here, as {"error", "detail"} with a 4xx status;
bad input never becomes a 500.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from commsvc.errors import CommsvcError
from commsvc.extensions import db
from commsvc.services.accounts import actors, auth
from commsvc.services.accounts.actors import Actor
from commsvc.web.api import bodies

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
    g.actor = actors.actor_for(key)
    bodies.refuse_nul_in_url()
    bodies.refuse_unread_body()
    return _refuse_unknown_query()


def _refuse_unknown_query() -> Any:
    """A misspelt filter (?stauts=sent) must not silently return everything."""
    if request.url_rule is None or not request.args:
        return None
    allowed = bodies.query_names().get(bodies.operation_key(), set())
    unknown = sorted(set(request.args) - allowed)
    if not unknown:
        return None
    hint = f"; this endpoint takes {', '.join(sorted(allowed))}" if allowed else ""
    return jsonify(
        error="bad_request", detail=f"unknown query parameter {', '.join(unknown)}{hint}"
    ), 400


def current_actor() -> Actor:
    actor: Actor = g.actor
    return actor


def json_body(optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object of documented fields, else a 400 (see `bodies`)."""
    return bodies.json_object(optional)


@bp.errorhandler(CommsvcError)
def _domain_error(error: CommsvcError) -> Any:
    db.session.rollback()
    return jsonify(error=error.code, detail=error.detail), error.http_status


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    response = jsonify(
        error=(error.name or "error").lower().replace(" ", "_"), detail=error.description
    )
    response.status_code = error.code or 500
    # Keep what the exception's own response says beside its body: a 405's Allow.
    for name, value in error.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


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
    questions,
)
