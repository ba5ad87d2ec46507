"""The member preference centre, reached only through signed links in messages.

GET never changes anything (mail scanners prefetch links); a one-click POST to the
unsubscribe URL (RFC 8058) works with no cookie, login or CSRF token.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request

from commsvc.extensions import csrf, db
from commsvc.models import Member, Topic
from commsvc.services import links, preferences

bp = Blueprint("preferences", __name__)


@bp.route("/p/<token>", methods=["GET", "POST"])
def preference_centre(token: str) -> Any:
    member, problem = _member_from(token, links.read_preferences_token)
    if member is None:
        return render_template("preferences/bad_link.html", problem=problem), problem.http_status
    saved = False
    if request.method == "POST":
        topics_on = {int(v) for v in request.form.getlist("topic") if v.isdigit()}
        preferences.update_choices(
            member,
            topics_on,
            email=request.form.get("email") == "on",
            sms=request.form.get("sms") == "on",
            stop_everything=request.form.get("stop_everything") == "on",
            source="preference_centre",
        )
        saved = True
    return render_template(
        "preferences/centre.html",
        member=member,
        token=token,
        topics=preferences.topic_choices(member),
        saved=saved,
    )


@bp.route("/u/<token>", methods=["GET", "POST"])
@csrf.exempt
def unsubscribe(token: str) -> Any:
    try:
        public_id, topic_id = links.read_unsubscribe_token(current_app.config["SECRET_KEY"], token)
    except links.LinkError as problem:
        return render_template("preferences/bad_link.html", problem=problem), problem.http_status
    member = preferences.member_by_public_id(public_id)
    topic = db.session.get(Topic, topic_id)
    if member is None or topic is None:
        missing = links.LinkError("This link is not valid.")
        return render_template("preferences/bad_link.html", problem=missing), 404
    if request.method == "POST":
        preferences.unsubscribe_topic(member, topic.id, source="one_click")
        return render_template("preferences/unsubscribed.html", topic=topic)
    return render_template(
        "preferences/unsubscribe.html",
        topic=topic,
        token=token,
        preferences_url=links.MemberLinks(
            current_app.config["SECRET_KEY"],
            current_app.config["COMMSVC_PUBLIC_URL"],
        ).preferences_url(member.public_id),
    )


def _member_from(token: str, reader: Any) -> tuple[Member | None, Any]:
    try:
        public_id = reader(current_app.config["SECRET_KEY"], token)
    except links.LinkError as problem:
        return None, problem
    member = preferences.member_by_public_id(public_id)
    if member is None:
        missing = links.LinkError("This link is not valid.")
        missing.http_status = 404
        return None, missing
    return member, None
