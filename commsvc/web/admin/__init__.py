"""The organisers' admin: server-rendered pages, one module per concern.

Every form carries a CSRF token; every query goes through the services, which apply
the account's regional scope (`current_actor`). Another region's things answer 404,
as if they did not exist; a viewer's attempt to change something answers 403.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, render_template, request
from flask_login import current_user
from werkzeug.exceptions import TooManyRequests

from commsvc.errors import CommsvcError
from commsvc.services.accounts import actors
from commsvc.services.bulletins import branding as brand_service
from commsvc.services.bulletins import confirmation

bp = Blueprint("admin", __name__)


def current_actor() -> actors.Actor:
    return actors.actor_for(current_user)


def or_404(load: Any) -> Any:
    """Run a service call; NotFound becomes 404 and Forbidden 403, others propagate."""
    try:
        return load()
    except CommsvcError as error:
        if error.http_status in (403, 404):
            abort(error.http_status)
        raise


@bp.app_context_processor
def _roles() -> dict[str, Any]:
    """What templates need to hide what an account may not do."""
    if not current_user.is_authenticated:
        return {"can_write": False, "is_admin": False}
    return {
        "can_write": current_user.role in ("admin", "organiser"),
        "is_admin": current_user.role == "admin",
    }


@bp.app_context_processor
def _brand() -> dict[str, Any]:
    """The union's own name and colour on every page (the national brand in the admin)."""
    return {"brand": brand_service.brand_for(None)}


@bp.app_template_global("uk_time")
def _uk_time(moment: Any) -> str:
    """Times in the admin are UK time (stored in UTC)."""
    return confirmation.uk_time(moment) if moment else ""


@bp.errorhandler(TooManyRequests)
def _throttled(_error: TooManyRequests) -> Any:
    flash("Too many attempts. Wait a minute, then try again.", "error")
    page = (
        "admin/password_reset_request.html"
        if request.endpoint == "admin.password_reset_request"
        else "admin/login.html"
    )
    return render_template(page), 429


from commsvc.web.admin import (  # noqa: E402,F401
    accounts,
    audit,
    branding,
    bulletins,
    check,
    compose,
    confirm,
    dashboard,
    deliverability,
    members,
    outbox,
    results,
    sessions,
    welsh_names,
)
