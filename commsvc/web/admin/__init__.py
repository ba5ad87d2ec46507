"""The organisers' admin: server-rendered pages, one module per concern.

Every form carries a CSRF token; every query goes through the services, which apply
the account's regional scope (`current_actor`).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort
from flask_login import current_user

from commsvc import auth
from commsvc.errors import CommsvcError

bp = Blueprint("admin", __name__)


def current_actor() -> auth.Actor:
    return auth.actor_for(current_user)


def or_404(load: Any) -> Any:
    try:
        return load()
    except CommsvcError as error:
        if error.http_status == 404:
            abort(404)
        raise


from commsvc.web.admin import (  # noqa: E402,F401
    bulletins,
    compose,
    dashboard,
    members,
    outbox,
    sessions,
)
