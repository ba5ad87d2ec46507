"""Composing a bulletin for a partnership."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from commsvc.errors import CommsvcError
from commsvc.extensions import db
from commsvc.models import Topic
from commsvc.services import bulletins, organisation
from commsvc.web.admin import bp, current_actor, or_404


@bp.route("/admin/partnerships/<int:partnership_id>/compose", methods=["GET", "POST"])
@login_required
def compose(partnership_id: int) -> Any:
    actor = current_actor()
    partnership = or_404(lambda: organisation.get_partnership(actor, partnership_id))
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
