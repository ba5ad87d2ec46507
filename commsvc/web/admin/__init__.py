"""The organisers' admin: log in, partnerships, compose, send, watch progress.

Pages are server-rendered; the only script polls a bulletin's status for the
progress bar. Every form carries a CSRF token; every query goes through the
services, which apply the account's regional scope.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from commsvc import auth
from commsvc.errors import CommsvcError
from commsvc.extensions import db
from commsvc.models import Topic, User
from commsvc.services import bulletins, capture, lifecycle, organisation

bp = Blueprint("admin", __name__)


def _actor() -> auth.Actor:
    return auth.actor_for(current_user)


@bp.get("/")
def index() -> Any:
    return redirect(url_for("admin.dashboard"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if request.method == "POST":
        email = request.form.get("email", "").strip().lower()
        user = db.session.scalar(select(User).where(User.email == email))
        if (
            user is not None
            and user.active
            and auth.check_password(user, request.form.get("password", ""))
        ):
            login_user(user)
            return redirect(url_for("admin.dashboard"))
        flash("That email and password do not match an account.", "error")
    return render_template("admin/login.html")


@bp.post("/logout")
def logout() -> Any:
    logout_user()
    return redirect(url_for("admin.login"))


@bp.get("/admin")
@login_required
def dashboard() -> Any:
    actor = _actor()
    return render_template(
        "admin/dashboard.html",
        partnerships=organisation.list_partnerships(actor),
        bulletins=[
            (b, bulletins.bulletin_json(b)) for b in bulletins.list_bulletins(actor, limit=20)
        ],
    )


@bp.route("/admin/partnerships/<int:partnership_id>/compose", methods=["GET", "POST"])
@login_required
def compose(partnership_id: int) -> Any:
    actor = _actor()
    partnership = _or_404(lambda: organisation.get_partnership(actor, partnership_id))
    topics = db.session.scalars(select(Topic).order_by(Topic.name)).all()
    form = request.form
    if request.method == "POST":
        data = {
            "partnership": partnership.id,
            "title": form.get("title", ""),
            "topic": form.get("topic", ""),
            "channels": form.getlist("channels"),
            "subject": form.get("subject", ""),
            "email_body": form.get("email_body", ""),
            "sms_body": form.get("sms_body", ""),
            "audience": {"service_groups": form.getlist("service_groups")},
        }
        try:
            bulletin = bulletins.create_bulletin(actor, data)
        except CommsvcError as error:
            db.session.rollback()
            flash(error.detail, "error")
        else:
            flash("Draft saved. Check the numbers, then send.", "success")
            return redirect(url_for("admin.bulletin", bulletin_id=bulletin.id))
    return render_template("admin/compose.html", partnership=partnership, topics=topics, form=form)


@bp.get("/admin/bulletins/<int:bulletin_id>")
@login_required
def bulletin(bulletin_id: int) -> Any:
    found = _or_404(lambda: bulletins.get_bulletin(_actor(), bulletin_id))
    return render_template(
        "admin/bulletin.html", bulletin=found, status=bulletins.bulletin_json(found)
    )


@bp.get("/admin/bulletins/<int:bulletin_id>/status.json")
@login_required
def bulletin_status(bulletin_id: int) -> Any:
    found = _or_404(lambda: bulletins.get_bulletin(_actor(), bulletin_id))
    return jsonify(bulletins.bulletin_json(found))


@bp.post("/admin/bulletins/<int:bulletin_id>/<action>")
@login_required
def bulletin_action(bulletin_id: int, action: str) -> Any:
    actor = _actor()
    found = _or_404(lambda: bulletins.get_bulletin(actor, bulletin_id))
    actions = {
        "send": lifecycle.send,
        "pause": lifecycle.pause,
        "resume": lifecycle.resume,
        "cancel": lifecycle.cancel,
    }
    if action not in actions:
        abort(404)
    try:
        actions[action](actor, found)
    except CommsvcError as error:
        db.session.rollback()
        flash(error.detail, "error")
    return redirect(url_for("admin.bulletin", bulletin_id=bulletin_id))


@bp.get("/admin/outbox")
@login_required
def outbox() -> Any:
    """What the local capture sinks received: the demo's window on members' inboxes."""
    return render_template(
        "admin/outbox.html",
        emails=capture.recent_emails(limit=50),
        texts=capture.recent_texts(limit=50),
    )


def _or_404(load: Any) -> Any:
    try:
        return load()
    except CommsvcError as error:
        if error.http_status == 404:
            abort(404)
        raise
