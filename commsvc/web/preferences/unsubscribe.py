"""One-click unsubscribe (RFC 8058) and what a member sees after it: undo in one tap,
a way to manage every choice, and the language switch.

GET shows where the member stands and changes nothing (mail scanners prefetch links);
the one-click POST works with no cookie, login or CSRF token and answers directly.
The undo is a form on the member's own page, so it carries a CSRF token.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms.validators import ValidationError as FormError

from commsvc.extensions import csrf, db
from commsvc.models import Member, Topic
from commsvc.services.bulletins import links
from commsvc.services.members import preferences
from commsvc.web.preferences import (
    ONE_CLICK,
    bad_link_page,
    bp,
    language_switch,
    member_links,
    missing,
)


@bp.route("/u/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> Any:
    found = _member_and_topic(token)
    if isinstance(found, links.LinkError):
        return bad_link_page(found)
    member, topic = found
    if request.method == "POST":
        if request.form.get("List-Unsubscribe") != ONE_CLICK:
            refused = links.LinkError(_("Send List-Unsubscribe=One-Click to unsubscribe."))
            return bad_link_page(refused)
        preferences.unsubscribe_topic(member, topic.id, source="one_click")
        return _unsubscribed_page(member, topic, token)
    if not preferences.is_subscribed(member, topic.id):
        return _unsubscribed_page(member, topic, token)
    return render_template(
        "preferences/unsubscribe.html",
        topic=topic,
        token=token,
        one_click=ONE_CLICK,
        preferences_url=member_links().preferences_url(member.public_id),
        undone=False,
        **language_switch(),
    )


@bp.route("/u/<token>/undo", methods=["POST"])
@csrf.exempt  # checked below, after the link, so a bad link gets the bad-link page
def undo_unsubscribe(token: str) -> Any:
    found = _member_and_topic(token)
    if isinstance(found, links.LinkError):
        return bad_link_page(found)
    member, topic = found
    try:
        validate_csrf(request.form.get("csrf_token"))
    except (CSRFError, FormError):
        return bad_link_page(
            links.LinkError(_("This page was open too long. Reload it and try again."))
        )
    preferences.resubscribe_topic(member, topic.id, source="unsubscribe_undo")
    return render_template(
        "preferences/unsubscribe.html",
        topic=topic,
        token=token,
        one_click=ONE_CLICK,
        preferences_url=member_links().preferences_url(member.public_id),
        undone=True,
        **language_switch(base=_page_url(token)),
    )


def _unsubscribed_page(member: Member, topic: Topic, token: str) -> Any:
    return render_template(
        "preferences/unsubscribed.html",
        topic=topic,
        token=token,
        preferences_url=member_links().preferences_url(member.public_id),
        **language_switch(base=_page_url(token)),
    )


def _page_url(token: str) -> str:
    # The switch link is a GET of the unsubscribe link: it shows the same state again.
    return request.host_url.rstrip("/") + f"/u/{token}"


def _member_and_topic(token: str) -> tuple[Member, Topic] | links.LinkError:
    try:
        public_id, topic_id = links.read_unsubscribe_token(current_app.config["SECRET_KEY"], token)
    except links.LinkError as problem:
        return problem
    member = preferences.member_by_public_id(public_id)
    topic = db.session.get(Topic, topic_id)
    if member is None or topic is None:
        return missing()
    g.member_language = member.language
    g.member_region_id = member.region_id
    return member, topic
