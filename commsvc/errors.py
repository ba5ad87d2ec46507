"""Domain exceptions: one module, turned into HTTP answers by the API blueprint and
into exit codes by the CLI. Their messages are for people: say what is wrong and
what to do."""

from __future__ import annotations

from typing import Any


class CommsvcError(Exception):
    """Base of every error a person can act on."""

    http_status = 400
    code = "bad_request"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class ConfigError(CommsvcError):
    code = "bad_configuration"


class ValidationError(CommsvcError):
    http_status = 422
    code = "invalid"


class NotFound(CommsvcError):
    http_status = 404
    code = "not_found"


class Forbidden(CommsvcError):
    http_status = 403
    code = "forbidden"


class Conflict(CommsvcError):
    http_status = 409
    code = "conflict"


class IllegalMove(Conflict):
    """A status change that the state machine does not allow."""

    code = "illegal_transition"


class TemplateError(ValidationError):
    code = "template_error"
