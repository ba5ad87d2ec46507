"""The admin page where topic and partnership names get their Welsh forms."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from commsvc.errors import CommsvcError
from commsvc.extensions import db
from commsvc.models import Topic
from commsvc.services.members import organisation, welsh_names
from commsvc.web.admin import bp, current_actor


@bp.route("/admin/welsh-names", methods=["GET", "POST"])
@login_required
def welsh_names_page() -> Any:
    actor = current_actor()
    if request.method == "POST":
        try:
            changed = welsh_names.set_welsh_names(
                actor, _ids_from("topic_"), _ids_from("partnership_")
            )
        except CommsvcError as error:
            db.session.rollback()
            flash(error.detail, "error")
        else:
            flash(f"Saved: {changed} Welsh names changed.", "success")
            return redirect(url_for("admin.welsh_names_page"))
    return render_template(
        "admin/welsh_names.html",
        topics=db.session.scalars(select(Topic).order_by(Topic.name)).all(),
        partnerships=organisation.list_partnerships(actor),
        can_name_topics=actor.region_ids is None,
    )


def _ids_from(prefix: str) -> dict[int, str]:
    found = {}
    for key, value in request.form.items():
        rest = key.removeprefix(prefix)
        if rest != key and rest.isdigit():
            found[int(rest)] = value
    return found
