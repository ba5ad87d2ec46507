"""A bulletin's page: live progress, counts and lifecycle actions."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, url_for
from flask_login import login_required

from commsvc.errors import CommsvcError
from commsvc.extensions import db
from commsvc.services import bulletins, lifecycle
from commsvc.web.admin import bp, current_actor, or_404


@bp.get("/admin/bulletins/<int:bulletin_id>")
@login_required
def bulletin(bulletin_id: int) -> Any:
    found = or_404(lambda: bulletins.get_bulletin(current_actor(), bulletin_id))
    return render_template(
        "admin/bulletin.html", bulletin=found, status=bulletins.bulletin_json(found)
    )


@bp.get("/admin/bulletins/<int:bulletin_id>/status.json")
@login_required
def bulletin_status(bulletin_id: int) -> Any:
    found = or_404(lambda: bulletins.get_bulletin(current_actor(), bulletin_id))
    return jsonify(bulletins.bulletin_json(found))


@bp.post("/admin/bulletins/<int:bulletin_id>/<action>")
@login_required
def bulletin_action(bulletin_id: int, action: str) -> Any:
    actor = current_actor()
    found = or_404(lambda: bulletins.get_bulletin(actor, bulletin_id))
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
