"""A member corrects their email address or mobile number from their page; the change
waits for the new address to confirm it through a link sent there."""

from __future__ import annotations

from typing import Any

from flask import current_app, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError as FormError

from commsvc.errors import ValidationError
from commsvc.extensions import csrf, limiter
from commsvc.services.bulletins import links
from commsvc.services.members import addresses, outlook, preferences
from commsvc.web.preferences import (
    bad_link_page,
    bp,
    language_switch,
    member_from,
    member_links,
    missing,
    render_centre,
)


@bp.route("/p/<token>/address", methods=["POST"])
@csrf.exempt  # checked below, after the link
@limiter.limit("10 per hour")
def correct_address(token: str) -> Any:
    member, problem = member_from(token)
    if member is None:
        return bad_link_page(problem)
    if not _csrf_ok():
        return bad_link_page(
            links.LinkError(_("This page was open too long. Reload it and try again."))
        )
    channel = request.form.get("channel", "")
    try:
        address = addresses.request_correction(member, channel, request.form.get("address", ""))
    except ValidationError as error:
        return render_centre(
            member, token, address_error=error.detail, address_channel=channel
        ), 422
    shown = outlook.masked_email(address) if channel == "email" else outlook.masked_mobile(address)
    return render_centre(member, token, address_sent=shown, address_channel=channel)


@bp.route("/c/<token>", methods=["GET", "POST"])
@csrf.exempt  # checked below, after the link
def confirm_address(token: str) -> Any:
    try:
        public_id, channel, address = links.read_confirm_token(
            current_app.config["SECRET_KEY"], token
        )
    except links.LinkError as problem:
        return bad_link_page(problem)
    member = preferences.member_by_public_id(public_id)
    if member is None:
        return bad_link_page(missing())
    g.member_language = member.language
    g.member_region_id = member.region_id
    shown = outlook.masked_email(address) if channel == "email" else outlook.masked_mobile(address)
    done = False
    if request.method == "POST":  # a GET (a mail scanner's) changes nothing
        if not _csrf_ok():
            stale = links.LinkError(_("This page was open too long. Reload it and try again."))
            return bad_link_page(stale)
        addresses.confirm_correction(member, channel, address)
        done = True
    return render_template(
        "preferences/confirm_address.html",
        token=token,
        channel=channel,
        shown=shown,
        done=done,
        preferences_url=member_links().preferences_url(member.public_id),
        **language_switch(),
    )


def _csrf_ok() -> bool:
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (CSRFError, FormError):
        return False
    return True
