"""The member preference centre, reached only through signed links in messages.

GET never changes anything (mail scanners prefetch links); a one-click POST to the
unsubscribe URL (RFC 8058, body `List-Unsubscribe=One-Click`) works with no cookie,
login or CSRF token, and answers directly, with no redirect. A bad, tampered or
expired link gets a page that says so, a 4xx status, and changes nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError as FormError

from commsvc.extensions import csrf
from commsvc.models import Member
from commsvc.services.bulletins import links
from commsvc.services.members import outlook, preferences
from commsvc.web.ids import parse_id
from commsvc.web.preferences.language import member_page, remember_switch, select_locale

bp = Blueprint("preferences", __name__)
member_page(bp)
bp.after_request(remember_switch)  # a switch on the preference centre keeps to later pages
ONE_CLICK = "One-Click"

__all__ = ["bad_link_page", "bp", "language_switch", "member_from", "select_locale"]


@bp.route("/p/<token>", methods=["GET", "POST"])
@csrf.exempt  # checked below, after the link, so a bad link gets the bad-link page
def preference_centre(token: str) -> Any:
    member, problem = member_from(token)
    if member is None:
        return bad_link_page(problem)
    saved = False
    if request.method == "POST":
        try:
            validate_csrf(request.form.get("csrf_token"))
        except (CSRFError, FormError):
            stale = links.LinkError(_("This page was open too long. Reload it and try again."))
            return bad_link_page(stale)
        chosen = (parse_id(v) for v in request.form.getlist("topic"))
        topics_on = {topic_id for topic_id in chosen if topic_id is not None}
        preferences.update_choices(
            member,
            topics_on,
            email=request.form.get("email") == "on",
            sms=request.form.get("sms") == "on",
            stop_everything=request.form.get("stop_everything") == "on",
            source="preference_centre",
            language=request.form.get("language") or str(get_locale()),
        )
        saved = True
    return render_centre(member, token, saved=saved)


def render_centre(member: Member, token: str, **extra: Any) -> str:
    """The preference page, with what the member will get worked out as sending does."""
    return render_template(
        "preferences/centre.html",
        member=member,
        token=token,
        outlook=outlook.member_outlook(member),
        masked_email=outlook.masked_email(member.email),
        masked_mobile=outlook.masked_mobile(member.mobile),
        **{"saved": False, **extra},
        **language_switch(),
    )


@bp.route(links.TEST_COPY_PATH, methods=["GET", "POST"])
@csrf.exempt  # a one-click POST from a test email lands here too, and changes nothing
def test_copy() -> Any:
    """Where the links of previews and test sends lead: nobody's choices change."""
    return render_template("preferences/test_copy.html", **language_switch())


def member_from(token: str) -> tuple[Member | None, Any]:
    try:
        public_id = links.read_preferences_token(current_app.config["SECRET_KEY"], token)
    except links.LinkError as problem:
        return None, problem
    member = preferences.member_by_public_id(public_id)
    if member is None:
        return None, missing()
    g.member_language = member.language
    g.member_region_id = member.region_id
    return member, None


def missing() -> links.LinkError:
    missing = links.LinkError("This link is not valid.")
    missing.http_status = 404
    return missing


def bad_link_page(problem: links.LinkError) -> Any:
    # links.py speaks English; say its two sentences in the page's language.
    detail = {
        "This link has expired.": _("This link has expired."),
        "This link is not valid.": _("This link is not valid."),
    }.get(problem.detail, problem.detail)
    fresh_url = None
    if isinstance(problem, links.ExpiredLink) and isinstance(problem.value, str):
        fresh_url = url_for("preferences.fresh_link", token=(request.view_args or {})["token"])
    page = render_template(
        "preferences/bad_link.html", detail=detail, fresh_url=fresh_url, **language_switch()
    )
    return page, problem.http_status


def language_switch(base: str | None = None) -> dict[str, Any]:
    """The current language, and the other one with the link to switch to it."""
    current = str(get_locale())
    other = "en" if current == "cy" else "cy"
    return {
        "lang": current,
        "other_lang": other,
        "other_lang_name": "English" if other == "en" else "Cymraeg",
        "switch_url": (base or request.base_url) + f"?lang={other}",
    }


def member_links() -> links.MemberLinks:
    return links.MemberLinks(
        current_app.config["SECRET_KEY"], current_app.config["COMMSVC_PUBLIC_URL"]
    )


# The routes of the other member pages register on `bp` when imported.
from commsvc.web.preferences import (  # noqa: E402,F401
    address,
    fresh_link,
    text_opt_out,
    unsubscribe,
    web_copy,
)
