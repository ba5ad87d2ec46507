"""The JSON schemas of /api/v1's bodies, for the OpenAPI description in spec.py."""

from __future__ import annotations

from typing import Any

from commsvc.web.api.question_spec import QUESTION_IN, QUESTION_OUT

_names = {"type": "array", "items": {"type": "string"}}
_channels = {
    "type": "array",
    "minItems": 1,
    "items": {"type": "string", "enum": ["email", "sms"]},
}
_error = {"$ref": "#/components/schemas/Error"}
_count = {"type": "integer", "minimum": 0}
PREVIEW = {
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
                    name: _count
                    for name in ("will_receive", "skipped", "suppressed", "no_address", "unusable")
                },
            },
        },
        "excluded": {
            "type": "object",
            "properties": {"skipped": _count, "suppressed": _count},
        },
        # Members whose mobile cannot receive texts (a landline): no text goes to them.
        "unusable_mobiles": _count,
    },
}


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def responses(ok: str, schema: dict[str, Any], *errors: str) -> dict[str, Any]:
    responses: dict[str, Any] = {ok: {"description": "OK", **json_body(schema)}}
    # Every operation may answer 400 (a body or query it cannot read) and 401 (no key).
    for code in ("400", "401", *errors):
        responses[code] = {"description": "Error", **json_body(_error)}
    return responses


def closed(properties: dict[str, Any], **rest: Any) -> dict[str, Any]:
    """A request body's schema: these fields and no others (the server refuses the rest)."""
    return {"type": "object", "properties": properties, "additionalProperties": False, **rest}


def one_of_fields(*names: str) -> list[dict[str, Any]]:
    """`anyOf` for a body that needs at least one of these fields, as non-empty text."""
    return [
        {"required": [name], "properties": {name: {"type": "string", "minLength": 1}}}
        for name in names
    ]


def build_schemas() -> dict[str, dict[str, Any]]:
    """Fresh each call: the spec is a plain dict that callers may extend."""
    member = closed(
        {
            "membership_number": {"type": "string"},
            "first_name": {"type": ["string", "null"]},
            "last_name": {"type": ["string", "null"]},
            "email": {"type": ["string", "null"]},
            "mobile": {"type": ["string", "null"]},
            "region": {"type": "string"},
            "branch": {"type": ["string", "null"]},
            "employer": {"type": ["string", "null"]},
            "service_group": {"type": "string", "enum": ["health", "local_government"]},
            "workplace": {"type": ["string", "null"]},
            "job_title": {"type": ["string", "null"]},
            "partnerships": {"type": ["array", "null"], "items": {"type": "string"}},
            "topics": {"type": ["array", "null"], "items": {"type": "string"}},
            "channels": {
                "type": ["array", "null"],
                "items": {"type": "string", "enum": ["email", "sms"]},
            },
            "language": {"type": ["string", "null"], "description": "en (default) or cy"},
        },
        required=["region", "service_group"],
        anyOf=one_of_fields("email", "mobile"),
    )
    member_out = {
        "type": "object",
        "properties": {
            **member["properties"],
            "opted_out": {"type": "boolean"},
            "erased": {"type": "boolean"},
            "warnings": {
                "type": "array",
                "items": {"type": "string"},
                "description": "On an upsert: what was left out (an invalid address, "
                "a channel with no address); the member was kept with the rest.",
            },
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
    bulletin: dict[str, Any] = {
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
            "service_reason": {"type": ["string", "null"]},
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "progress": {"type": "number", "minimum": 0, "maximum": 1},
            "public": {"type": "boolean"},
            "languages": {"type": "array", "items": {"type": "string", "enum": ["en", "cy"]}},
        },
    }
    new_bulletin: dict[str, Any] = closed(
        {
            "partnership": {"type": "integer"},
            "title": {"type": "string"},
            "topic": {"type": "string"},
            "channels": _channels,
            "subject": {"type": ["string", "null"]},
            "email_body": {"type": ["string", "null"]},
            "sms_body": {"type": ["string", "null"]},
            "subject_cy": {"type": ["string", "null"]},
            "email_body_cy": {"type": ["string", "null"]},
            "sms_body_cy": {"type": ["string", "null"]},
            "public": {"type": "boolean"},
            "service_reason": {
                "type": ["string", "null"],
                "maxLength": 500,
                "description": "Required with a service topic (it reaches members who "
                "stopped campaign messages): why this bulletin must reach them.",
            },
            "audience": closed(
                {
                    **{
                        name: {"type": ["array", "null"], "items": {"type": "string"}}
                        for name in (
                            "regions",
                            "branches",
                            "employers",
                            "service_groups",
                            "workplaces",
                            "job_titles",
                        )
                    },
                    "not_answered": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "a bulletin id: members who got its question, no answer",
                    },
                },
            ),
            "question": QUESTION_IN,
        },
        required=["partnership", "title", "topic", "channels"],
    )
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
            "question": QUESTION_OUT,
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
            "region": {
                "type": ["string", "null"],
                "description": "the region whose organisers use it (null: admins only); "
                "on saving, defaults to the partnership's region or the key's only region",
            },
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

    return {
        "member": member,
        "member_out": member_out,
        "partnership": partnership,
        "bulletin": bulletin,
        "new_bulletin": new_bulletin,
        "delivery": delivery,
        "number": number,
        "bulletin_id": bulletin_id,
        "template": template,
        "rendered": rendered,
    }
