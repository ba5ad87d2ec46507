"""The short link a text ends with when members cannot reply STOP: texts off, and undo.

GET shows what the button will do and changes nothing (phones and chat apps fetch
links to show a preview); pressing the button (a POST with a CSRF token) turns the
member's texts off, recorded as their own choice. The page offers the undo and the way
to every other choice. The link stops texts only: it never opens the preference centre.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError as FormError

from commsvc.extensions import csrf
from commsvc.models import Member
from commsvc.services.bulletins import links
from commsvc.services.members import preferences
from commsvc.web.preferences import bad_link_page, bp, language_switch, member_links, missing

SOURCE = "text_opt_out_link"


@bp.route(links.TEXT_OPT_OUT_PATH + "<token>", methods=["GET", "POST"])
@csrf.exempt  # checked below, after the link, so a bad link gets the bad-link page
def text_opt_out(token: str) -> Any:
    if token == links.TEST_COPY_TEXT_TOKEN:  # a preview's or a test send's link
        return render_template("preferences/test_copy.html", **language_switch())
    found = _member(token)
    if isinstance(found, links.LinkError):
        return bad_link_page(found)
    if request.method == "POST":
        try:
            validate_csrf(request.form.get("csrf_token"))
        except (CSRFError, FormError):
            return bad_link_page(
                links.LinkError(_("This page was open too long. Reload it and try again."))
            )
        preferences.set_texts(found, request.form.get("texts") == "on", SOURCE)
    return render_template(
        "preferences/text_opt_out.html",
        token=token,
        texts_on=found.sms_enabled,
        has_email=bool(found.email),
        changed=request.method == "POST",
        preferences_url=member_links().preferences_url(found.public_id),
        **language_switch(),
    )


def _member(token: str) -> Member | links.LinkError:
    try:
        public_id = links.read_text_opt_out_token(current_app.config["SECRET_KEY"], token)
    except links.LinkError as problem:
        return problem
    member = preferences.member_by_public_id(public_id)
    if member is None:
        return missing()
    g.member_language = member.language
    return member
