"""The OpenAPI 3.1 description of /api/v1, kept beside the routes it describes."""

from __future__ import annotations

from typing import Any

from commsvc.statuses import DeliveryStatus

_names = {"type": "array", "items": {"type": "string"}}
_error = {"$ref": "#/components/schemas/Error"}
_count = {"type": "integer", "minimum": 0}
_PREVIEW = {
    "type": "object",
    "properties": {
        "audience_size": _count,
        "reached": _count,
        "not_reached": _count,
        "channels": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    name: _count for name in ("will_receive", "skipped", "suppressed", "no_address")
                },
            },
        },
        "excluded": {
            "type": "object",
            "properties": {"skipped": _count, "suppressed": _count},
        },
    },
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _responses(ok: str, schema: dict[str, Any], *errors: str) -> dict[str, Any]:
    responses: dict[str, Any] = {ok: {"description": "OK", **_json(schema)}}
    # Every operation may answer 400 (a body or query it cannot read) and 401 (no key).
    for code in ("400", "401", *errors):
        responses[code] = {"description": "Error", **_json(_error)}
    return responses


def build_spec() -> dict[str, Any]:
    member = {
        "type": "object",
        "properties": {
            "membership_number": {"type": "string"},
            "first_name": {"type": "string"},
            "last_name": {"type": "string"},
            "email": {"type": ["string", "null"]},
            "mobile": {"type": ["string", "null"]},
            "region": {"type": "string"},
            "branch": {"type": ["string", "null"]},
            "employer": {"type": ["string", "null"]},
            "service_group": {"type": "string", "enum": ["health", "local_government"]},
            "workplace": {"type": "string"},
            "job_title": {"type": "string"},
            "partnerships": _names,
            "topics": _names,
            "channels": {"type": "array", "items": {"type": "string", "enum": ["email", "sms"]}},
        },
    }
    member_out = {
        **member,
        "properties": {
            **member["properties"],  # type: ignore[dict-item]
            "opted_out": {"type": "boolean"},
            "erased": {"type": "boolean"},
        },
    }
    partnership = {
        "type": "object",
        "required": ["id", "name", "kind", "region", "employers"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "kind": {"type": "string"},
            "region": {"type": "string"},
            "employers": _names,
            "requires_approval": {"type": "boolean"},
        },
    }
    bulletin = {
        "type": "object",
        "required": ["id", "status", "audience_size", "counts", "progress"],
        "properties": {
            "id": {"type": "integer"},
            "status": {"type": "string"},
            "title": {"type": "string"},
            "partnership": {"type": "integer"},
            "topic": {"type": "string"},
            "channels": _names,
            "audience_size": {"type": "integer"},
            "scheduled_for": {"type": ["string", "null"]},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "progress": {"type": "number", "minimum": 0, "maximum": 1},
        },
    }
    new_bulletin = {
        "type": "object",
        "required": ["partnership", "title", "topic", "channels"],
        "properties": {
            "partnership": {"type": "integer"},
            "title": {"type": "string"},
            "topic": {"type": "string"},
            "channels": {"type": "array", "items": {"type": "string", "enum": ["email", "sms"]}},
            "subject": {"type": "string"},
            "email_body": {"type": "string"},
            "sms_body": {"type": "string"},
            "audience": {
                "type": "object",
                "properties": {
                    name: _names
                    for name in (
                        "regions",
                        "branches",
                        "employers",
                        "service_groups",
                        "workplaces",
                        "job_titles",
                    )
                },
            },
        },
    }
    delivery = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "membership_number": {"type": "string"},
            "channel": {"type": "string"},
            "status": {"type": "string"},
            "attempts": {"type": "integer"},
            "provider": {"type": ["string", "null"]},
            "provider_id": {"type": ["string", "null"]},
            "last_error": {"type": ["string", "null"]},
            "sent_at": {"type": ["string", "null"]},
            "delivered_at": {"type": ["string", "null"]},
        },
    }
    number = {
        "name": "membership_number",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    bulletin_id = {
        "name": "id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": 2**31 - 1},
    }

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
            "description": "Member communication and bulletin distribution.",
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
                            {
                                "type": "object",
                                "required": ["name", "region"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "kind": {"type": "string"},
                                    "region": {"type": "string"},
                                    "employers": _names,
                                },
                            }
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
                            {
                                "type": "object",
                                "properties": {
                                    "scheduled_for": {
                                        "type": ["string", "null"],
                                        "format": "date-time",
                                    }
                                },
                            }
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
                            "schema": {"type": "integer", "minimum": 1},
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
            **_compose_paths(bulletin, new_bulletin, bulletin_id),
        },
    }


def _compose_paths(
    bulletin: dict[str, Any], new_bulletin: dict[str, Any], bulletin_id: dict[str, Any]
) -> dict[str, Any]:
    """Approval, previews and reusable templates (issue 4)."""
    bulletin["properties"].update(
        {
            "template": {
                "type": ["object", "null"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "version": {"type": "integer"},
                },
            },
            "created_by": {"type": "string"},
            "approved_by": {"type": ["string", "null"]},
            "history": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        k: {"type": "string"} for k in ("from", "to", "actor", "at", "note")
                    },
                },
            },
            "warnings": {
                "description": "e.g. the same content went to this partnership in the last 24h",
                **_names,
            },
        }
    )
    new_bulletin["properties"]["template"] = {
        "type": "integer",
        "description": "a template version id; its fields fill in what the request leaves out",
    }
    template = {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "version": {"type": "integer"},
            "subject": {"type": "string"},
            "email_body": {"type": "string"},
            "sms_body": {"type": "string"},
            "created_by": {"type": "string"},
            "created_at": {"type": "string"},
        },
    }
    sms = {
        "type": "object",
        "properties": {
            "text": {"type": "string"},
            "encoding": {"type": "string", "enum": ["GSM-7", "UCS-2"]},
            "characters": {"type": "integer"},
            "units": {"type": "integer"},
            "segments": {"type": "integer"},
            "per_segment": {"type": "integer"},
            "warning": {"type": ["string", "null"]},
        },
    }
    rendered = {
        "type": "object",
        "properties": {
            "label": {"type": "string"},
            "member": {"type": "object"},
            "email": {
                "type": ["object", "null"],
                "properties": {k: {"type": "string"} for k in ("subject", "text", "html")},
            },
            "sms": {"oneOf": [sms, {"type": "null"}]},
        },
    }

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
            {"type": "object", "properties": {"membership_number": {"type": "string"}}},
            "200",
            {"type": "object", "properties": {"items": {"type": "array", "items": rendered}}},
        ),
        "/bulletins/{id}/test-send": post(
            "Send the sample rendering to your own email address and/or mobile",
            {
                "type": "object",
                "properties": {"email": {"type": "string"}, "mobile": {"type": "string"}},
            },
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
                    **_json({**template, "required": ["name"]}),
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
