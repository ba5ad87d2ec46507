"""The organisers' admin: server-rendered pages, one module per concern.

Every form carries a CSRF token; every query goes through the services, which apply
the account's regional scope (`current_actor`). Another region's things answer 404,
as if they did not exist; a viewer's attempt to change something answers 403.
"""

from __future__ import annotations

from email.header import decode_header, make_header
from email.utils import parseaddr
from typing import Any

from flask import Blueprint, abort, flash, render_template, request
from flask_login import current_user
from werkzeug.exceptions import TooManyRequests

from commsvc import uk_time
from commsvc.errors import CommsvcError
from commsvc.services.accounts import actors
from commsvc.services.bulletins import branding as brand_service

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
    return uk_time.for_people(moment) if moment else ""


@bp.app_template_filter("uk_short")
def _uk_short(moment: Any, seconds: bool = False) -> str:
    """Times in admin tables: "01/12/2026 09:30 GMT"."""
    return uk_time.short(moment, seconds) if moment else ""


@bp.app_template_filter("display_from")
def _display_from(header: str) -> str:
    """A From header as an inbox shows it: "North West UNISON <bulletins@…>"."""
    name, address = parseaddr(header)
    decoded = str(make_header(decode_header(name))) if name else ""
    return f"{decoded} <{address}>" if decoded else address


@bp.app_template_filter("uk_day")
def _uk_day(moment: Any) -> str:
    return uk_time.day(moment) if moment else ""


@bp.app_template_filter("uk_clock")
def _uk_clock(moment: Any) -> str:
    return uk_time.clock(moment) if moment else ""


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
