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

from commsvc.errors import CommsvcError, ValidationError

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
    refuse_wrong_types(data)
    if _holds_nul(data):
        raise CommsvcError(_NUL)
    return data


def refuse_nul_in_url() -> None:
    """PostgreSQL cannot hold a NUL character in text: refuse it before any query."""
    values = [*request.args.values(), *(request.view_args or {}).values()]
    if any(isinstance(v, str) and "\x00" in v for v in values):
        raise CommsvcError(_NUL)


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


def refuse_wrong_types(data: dict[str, Any]) -> None:
    """Each field of the JSON type the document gives it: a number where text is
    expected, or one name where a list is, is refused rather than read generously."""
    schema = body_schemas().get(operation_key())
    if schema is not None:
        problem = _type_problem(data, schema, "the body")
        if problem is not None:
            raise ValidationError(problem)


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
def body_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        key: operation["requestBody"]["content"]["application/json"]["schema"]
        for key, operation in _operations().items()
        if "requestBody" in operation
    }


@cache
def body_fields() -> dict[tuple[str, str], set[str]]:
    return {key: set(schema.get("properties", {})) for key, schema in body_schemas().items()}


def _type_problem(value: Any, schema: dict[str, Any], where: str) -> str | None:
    """Where `value` is read more generously than the document says, said for a person;
    else None. The services would take a number as text and "a;b" as a list of names
    (as a CSV cell is read); the API takes neither. Other mistakes (null, an object,
    true) the services refuse themselves, in their own words."""
    wanted = schema.get("type")
    names = [wanted] if isinstance(wanted, str) else list(wanted or [])
    if names and "array" not in names and "string" in names and _is_number(value):
        return f"{where} must be {' or '.join(_WORDS[n] for n in names)}"
    if names and "array" in names and "string" not in names and isinstance(value, str):
        return f"{where} must be {' or '.join(_WORDS[n] for n in names)}"
    if isinstance(value, list) and "items" in schema:
        for item in value:
            problem = _type_problem(item, schema["items"], f"each item of {where}")
            if problem is not None:
                return problem
    if isinstance(value, dict):
        for name, item in value.items():
            inner = schema.get("properties", {}).get(name)
            if inner is not None:
                label = name if where == "the body" else f"{where}.{name}"
                problem = _type_problem(item, inner, label)
                if problem is not None:
                    return problem
    return None


def _holds_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


_NUL = "Text may not contain the NUL character (\\u0000)."


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "array": "a list",
    "object": "an object",
    "null": "null",
}


@cache
def _operations() -> dict[tuple[str, str], dict[str, Any]]:
    from commsvc.web.api.spec import build_spec

    return {
        (path, method): operation
        for path, item in build_spec()["paths"].items()
        for method, operation in item.items()
    }
