"""What a request may carry, read from the OpenAPI document (spec.py): its query
parameters and the fields of its JSON body.

A body that is not a JSON object, or that names a field the document does not, is a
400 that changes nothing: a malformed `{"scheduled_for": …` must never read as "send
now", nor a misspelt `scheduled_fr` as "no schedule". The document is the one list of
what each operation takes, so the server and its description cannot drift apart.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from flask import request

from commsvc.errors import CommsvcError

API_PREFIX = "/api/v1"


def json_object(optional: bool = False) -> dict[str, Any]:
    """The request's body as a JSON object holding only documented fields.

    `optional`: an empty body (no bytes, or only whitespace) reads as `{}`; anything
    else must still be a JSON object."""
    raw = request.get_data(cache=True)
    if optional and not raw.strip():
        return {}
    if not request.is_json:
        raise CommsvcError(
            "The body must be a JSON object sent with Content-Type: application/json."
        )
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as error:
        raise CommsvcError(
            f"The body must be a JSON object; it is not valid JSON ({error})."
        ) from None
    if not isinstance(data, dict):
        raise CommsvcError("The body must be a JSON object.")
    refuse_unknown_fields(data)
    return data


def refuse_unread_body() -> None:
    """An operation that takes no body still refuses one it cannot read, or one with
    fields: a client that thinks it sent options must learn that none were taken."""
    key = operation_key()
    takes_none = key in _operations() and key not in body_fields()
    if takes_none and key[1] in ("post", "put", "patch", "delete"):
        json_object(optional=True)


def refuse_unknown_fields(data: dict[str, Any]) -> None:
    key = operation_key()
    if key not in _operations():
        return
    allowed = body_fields().get(key, set())
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise CommsvcError(
            f"unknown field {', '.join(repr(name) for name in unknown)}; "
            f"this endpoint takes {', '.join(sorted(allowed)) or 'no fields'}"
        )


def operation_key() -> tuple[str, str]:
    """(path as the document writes it, method) of the current request."""
    rule = request.url_rule.rule if request.url_rule is not None else request.path
    path = re.sub(r"<int:\w+_id>", "{id}", rule.removeprefix(API_PREFIX))
    path = path.replace("<membership_number>", "{membership_number}")
    return path, request.method.lower()


@cache
def query_names() -> dict[tuple[str, str], set[str]]:
    names: dict[tuple[str, str], set[str]] = {}
    for (path, method), operation in _operations().items():
        names[(path, method)] = {
            p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"
        }
    return names


@cache
def body_fields() -> dict[tuple[str, str], set[str]]:
    fields: dict[tuple[str, str], set[str]] = {}
    for key, operation in _operations().items():
        body = operation.get("requestBody")
        if body is not None:
            schema = body["content"]["application/json"]["schema"]
            fields[key] = set(schema.get("properties", {}))
    return fields


@cache
def _operations() -> dict[tuple[str, str], dict[str, Any]]:
    from commsvc.web.api.spec import build_spec

    return {
        (path, method): operation
        for path, item in build_spec()["paths"].items()
        for method, operation in item.items()
    }
