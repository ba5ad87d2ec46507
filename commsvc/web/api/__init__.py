"""The REST API, /api/v1: JSON in, JSON out, Bearer API keys.

Errors are answered here and only here, as {"error", "detail"} with a 4xx status;
bad input never becomes a 500.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from commsvc.errors import CommsvcError
from commsvc.extensions import db
from commsvc.services.accounts import actors, auth
from commsvc.services.accounts.actors import Actor

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
    return _refuse_unknown_query()


def _refuse_unknown_query() -> Any:
    """A misspelt filter (?stauts=sent) must not silently return everything."""
    if request.url_rule is None or not request.args:
        return None
    path = re.sub(r"<int:\w+_id>", "{id}", request.url_rule.rule.removeprefix(str(bp.url_prefix)))
    path = path.replace("<membership_number>", "{membership_number}")
    allowed = _query_names().get((path, request.method.lower()), set())
    unknown = sorted(set(request.args) - allowed)
    if not unknown:
        return None
    hint = f"; this endpoint takes {', '.join(sorted(allowed))}" if allowed else ""
    return jsonify(
        error="bad_request", detail=f"unknown query parameter {', '.join(unknown)}{hint}"
    ), 400


@cache
def _query_names() -> dict[tuple[str, str], set[str]]:
    from commsvc.web.api.spec import build_spec

    names: dict[tuple[str, str], set[str]] = {}
    for path, item in build_spec()["paths"].items():
        for method, operation in item.items():
            names[(path, method)] = {
                p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"
            }
    return names


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
    questions,
)
