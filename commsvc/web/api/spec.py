"""The OpenAPI 3.1 description of /api/v1, kept beside the routes it describes
(the body schemas are in schemas.py)."""

from __future__ import annotations

from typing import Any

from commsvc.statuses import DeliveryStatus
from commsvc.web.api.question_spec import question_paths
from commsvc.web.api.schemas import PREVIEW as _PREVIEW
from commsvc.web.api.schemas import build_schemas, closed, one_of_fields
from commsvc.web.api.schemas import json_body as _json
from commsvc.web.api.schemas import responses as _responses

_names = {"type": "array", "items": {"type": "string"}}
_DESCRIPTION = """Member communication and bulletin distribution.

Request bodies are JSON objects holding only the fields described here: anything else,
or a body that is not JSON, is a 400 that changes nothing.

Gateway callbacks (outside /api/v1): `POST /webhooks/sms/status`, `/webhooks/sms/inbound`
and `/webhooks/email/events` carry `X-Signature`, the hex HMAC-SHA256 under the webhook
secret of `<X-Timestamp>.<raw body>` when the sender gives `X-Timestamp` (Unix seconds;
refused more than 300 s from the server's clock), else of the raw body alone. A wrong or
missing signature is a 401; an inbound reply replayed within ten minutes is a 409."""


def build_spec() -> dict[str, Any]:
    schemas = build_schemas()
    member, member_out = schemas["member"], schemas["member_out"]
    partnership, delivery = schemas["partnership"], schemas["delivery"]
    bulletin, new_bulletin = schemas["bulletin"], schemas["new_bulletin"]
    number, bulletin_id = schemas["number"], schemas["bulletin_id"]

    def action(summary: str) -> dict[str, Any]:
        return {
            "post": {
                "summary": summary,
                "parameters": [bulletin_id],
                "responses": _responses("202", bulletin, "404", "409", "422"),
            }
        }

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "commsvc",
            "version": "1",
            "description": _DESCRIPTION,
        },
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error", "detail"],
                    "properties": {"error": {"type": "string"}, "detail": {"type": "string"}},
                }
            },
        },
        "paths": {
            "/members/{membership_number}": {
                "put": {
                    "summary": "Create or update a member",
                    "parameters": [number],
                    "requestBody": {"required": True, **_json(member)},
                    "responses": {
                        **_responses("200", member_out, "400", "404", "422"),
                        "201": {"description": "Created", **_json(member_out)},
                    },
                },
                "get": {
                    "summary": "Read a member",
                    "parameters": [number],
                    "responses": _responses("200", member_out, "404"),
                },
                "delete": {
                    "summary": "Erase a member's personal data",
                    "parameters": [number],
                    "responses": _responses("200", {"type": "object"}, "404"),
                },
            },
            "/members/{membership_number}/export": {
                "get": {
                    "summary": "A member's data (profile, preferences, consent, deliveries)",
                    "parameters": [number],
                    "responses": _responses("200", {"type": "object"}, "404"),
                }
            },
            "/audience/preview": {
                "post": {
                    "summary": "Audience size, split by channel, exclusions; saves nothing",
                    "requestBody": {"required": True, **_json(new_bulletin)},
                    "responses": _responses("200", _PREVIEW, "400", "404", "422"),
                }
            },
            "/partnerships": {
                "get": {
                    "summary": "List partnerships",
                    "responses": _responses(
                        "200",
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": partnership}},
                        },
                    ),
                },
                "post": {
                    "summary": "Create a partnership",
                    "requestBody": {
                        "required": True,
                        **_json(
                            closed(
                                {
                                    "name": {"type": "string"},
                                    "kind": {"type": "string"},
                                    "region": {"type": "string"},
                                    "employers": _names,
                                    "requires_approval": {"type": "boolean"},
                                },
                                required=["name", "region"],
                            )
                        ),
                    },
                    "responses": _responses("201", partnership, "400", "422"),
                },
            },
            "/partnerships/{id}": {
                "get": {
                    "summary": "Read a partnership",
                    "parameters": [bulletin_id],
                    "responses": _responses("200", partnership, "404"),
                }
            },
            "/bulletins": {
                "get": {
                    "summary": "List recent bulletins",
                    "responses": _responses(
                        "200",
                        {
                            "type": "object",
                            "properties": {"items": {"type": "array", "items": bulletin}},
                        },
                    ),
                },
                "post": {
                    "summary": "Compose a bulletin (a draft)",
                    "requestBody": {"required": True, **_json(new_bulletin)},
                    "responses": _responses("201", bulletin, "400", "404", "422"),
                },
            },
            "/bulletins/{id}": {
                "get": {
                    "summary": "Status, counts and progress",
                    "parameters": [bulletin_id],
                    "responses": _responses("200", bulletin, "404"),
                }
            },
            "/bulletins/{id}/send": {
                "post": {
                    "summary": "Send now, or schedule with scheduled_for",
                    "parameters": [bulletin_id],
                    "requestBody": {
                        "required": False,
                        **_json(
                            closed(
                                {
                                    "scheduled_for": {
                                        "type": ["string", "null"],
                                        "format": "date-time",
                                    }
                                }
                            )
                        ),
                    },
                    "responses": _responses("202", bulletin, "400", "404", "409", "422"),
                }
            },
            "/bulletins/{id}/pause": action("Pause sending"),
            "/bulletins/{id}/resume": action("Resume sending"),
            "/bulletins/{id}/cancel": action("Cancel; waiting deliveries become skipped"),
            "/bulletins/{id}/deliveries": {
                "get": {
                    "summary": "Deliveries, paged",
                    "parameters": [
                        bulletin_id,
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"type": "string", "enum": [str(s) for s in DeliveryStatus]},
                        },
                        {
                            "name": "channel",
                            "in": "query",
                            "schema": {"type": "string", "enum": ["email", "sms"]},
                        },
                        {
                            "name": "page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 10**9},
                        },
                        {
                            "name": "per_page",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                        },
                    ],
                    "responses": _responses(
                        "200",
                        {
                            "type": "object",
                            "properties": {
                                "items": {"type": "array", "items": delivery},
                                "page": {"type": "integer"},
                                "per_page": {"type": "integer"},
                                "total": {"type": "integer"},
                            },
                        },
                        "404",
                        "422",
                    ),
                }
            },
            **_compose_paths(schemas),
            **question_paths(bulletin_id),
        },
    }


def _compose_paths(schemas: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Approval, previews and reusable templates (issue 4)."""
    bulletin, bulletin_id = schemas["bulletin"], schemas["bulletin_id"]
    template, rendered = schemas["template"], schemas["rendered"]
    # What a caller may set; the server fills in the rest (and ignores it if sent).
    writable = ("name", "region", "subject", "email_body", "sms_body")
    new_template = closed(
        {name: template["properties"][name] for name in writable}
        | {field: {"type": ["string", "null"]} for field in ("subject", "email_body", "sms_body")},
        required=["name"],
        anyOf=one_of_fields("subject", "email_body", "sms_body"),
    )

    def post(summary: str, body: dict[str, Any] | None, ok: str, schema: Any) -> dict[str, Any]:
        operation: dict[str, Any] = {
            "summary": summary,
            "parameters": [bulletin_id],
            "responses": _responses(ok, schema, "403", "404", "409", "422"),
        }
        if body is not None:
            operation["requestBody"] = {"required": False, **_json(body)}
        return {"post": operation}

    listing = {"type": "object", "properties": {"items": {"type": "array", "items": template}}}
    return {
        "/bulletins/{id}/approve": post(
            "Approve a draft (with two-person approval, not by its author)", None, "200", bulletin
        ),
        "/bulletins/{id}/unschedule": post("Take a schedule back to draft", None, "200", bulletin),
        "/bulletins/{id}/preview": post(
            "Render for a member, or a sample member from each service group",
            closed({"membership_number": {"type": ["string", "null"]}}),
            "200",
            {"type": "object", "properties": {"items": {"type": "array", "items": rendered}}},
        ),
        "/bulletins/{id}/test-send": post(
            "Send the sample rendering to your own email address and/or mobile",
            closed(
                {"email": {"type": "string"}, "mobile": {"type": "string"}},
                anyOf=one_of_fields("email", "mobile"),
            ),
            "202",
            {"type": "object", "properties": {"queued": _names}},
        ),
        "/templates": {
            "get": {
                "summary": "Latest version of each template (all versions with ?name=)",
                "parameters": [{"name": "name", "in": "query", "schema": {"type": "string"}}],
                "responses": _responses("200", listing),
            },
            "post": {
                "summary": "Save a template; an existing name gets its next version",
                "requestBody": {
                    "required": True,
                    **_json(new_template),
                },
                "responses": _responses("201", template, "400", "403", "422"),
            },
        },
        "/templates/{id}": {
            "get": {
                "summary": "One template version",
                "parameters": [bulletin_id],
                "responses": _responses("200", template, "404"),
            }
        },
    }
