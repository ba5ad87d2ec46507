"""An expired preference link offers a fresh one, sent to the member's own address.

The old link's signature still proves whose it was, so it can ask for a new link; the
new link goes only to the address we hold, never to the person holding the old one.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError as FormError

from commsvc.extensions import csrf, limiter
from commsvc.services.bulletins import links
from commsvc.services.members import member_notices, outlook, preferences
from commsvc.web.preferences import bad_link_page, bp, language_switch, missing


@bp.route("/p/<token>/fresh", methods=["POST"])
@csrf.exempt  # checked below, after the link
@limiter.limit("5 per hour")
def fresh_link(token: str) -> Any:
    try:
        public_id = links.read_preferences_token(current_app.config["SECRET_KEY"], token)
    except links.ExpiredLink as expired:
        if not isinstance(expired.value, str):
            return bad_link_page(links.LinkError("This link is not valid."))
        public_id = expired.value
    except links.LinkError as problem:
        return bad_link_page(problem)
    member = preferences.member_by_public_id(public_id)
    if member is None:
        return bad_link_page(missing())
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (CSRFError, FormError):
        return bad_link_page(
            links.LinkError(_("This page was open too long. Reload it and try again."))
        )
    g.member_language = member.language
    g.member_region_id = member.region_id
    channel = member_notices.send_fresh_link(member)
    where = (
        outlook.masked_email(member.email)
        if channel == "email"
        else outlook.masked_mobile(member.mobile)
    )
    return render_template("preferences/fresh_link_sent.html", where=where, **language_switch())
