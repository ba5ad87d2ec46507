"""The OpenAPI description of a bulletin's question: its body, results and close."""

from __future__ import annotations

from typing import Any

_count = {"type": "integer", "minimum": 0}
_moment = {"type": "string", "format": "date-time"}
# A breakdown cell: a count, or null for 1 to 4 answers ("fewer than 5").
_cells = {"type": "object", "additionalProperties": {"type": ["integer", "null"]}}

QUESTION_IN: dict[str, Any] = {
    "type": "object",
    "description": "a consultation or an event RSVP, answered by email link or SMS reply",
    "required": ["text", "choices", "closes_at"],
    "properties": {
        "text": {"type": "string", "minLength": 1, "maxLength": 1000},
        "choices": {
            "type": "array",
            "minItems": 2,
            "maxItems": 6,
            "items": {"type": "string", "minLength": 1, "maxLength": 60},
        },
        "closes_at": {**_moment, "description": "in the future"},
        "kind": {"type": "string", "enum": ["consultation", "rsvp"]},
        "event": {
            "type": "object",
            "description": "for kind rsvp: when and where",
            "required": ["at", "place"],
            "properties": {"at": _moment, "place": {"type": "string"}},
        },
    },
}

QUESTION_OUT: dict[str, Any] = {
    "type": ["object", "null"],
    "properties": {
        "text": {"type": "string"},
        "choices": {"type": "array", "items": {"type": "string"}},
        "kind": {"type": "string"},
        "event": {"type": ["object", "null"]},
        "closes_at": {"type": "string"},
        "closed_early_at": {"type": ["string", "null"]},
        "open": {"type": "boolean"},
    },
}

RESULTS: dict[str, Any] = {
    "type": "object",
    "required": ["eligible", "responded", "turnout", "choices"],
    "properties": {
        "question": {"type": "string"},
        "kind": {"type": "string"},
        "open": {"type": "boolean"},
        "closes_at": {"type": "string"},
        "eligible": _count,
        "responded": _count,
        "turnout": {"type": "number", "minimum": 0, "maximum": 1},
        "choices": {"type": "object", "additionalProperties": _count},
        "by_service_group": {"type": "object", "additionalProperties": _cells},
        "by_employer": {"type": "object", "additionalProperties": _cells},
    },
}


def question_paths(bulletin_id: dict[str, Any]) -> dict[str, Any]:
    from commsvc.web.api.schemas import responses as _responses  # schemas imports this module

    return {
        "/bulletins/{id}/results": {
            "get": {
                "summary": "A question's turnout and counts; no one's own answer",
                "parameters": [bulletin_id],
                "responses": _responses("200", RESULTS, "404", "422"),
            }
        },
        "/bulletins/{id}/close-question": {
            "post": {
                "summary": "Close the question now: later answers are not counted",
                "parameters": [bulletin_id],
                "responses": _responses("200", QUESTION_OUT, "403", "404", "422"),
            }
        },
    }
