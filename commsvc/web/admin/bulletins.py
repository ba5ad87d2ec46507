"""A bulletin's page (live progress, counts, lifecycle actions) and its report."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, jsonify, redirect, render_template, url_for
from flask_login import login_required

from commsvc.errors import CommsvcError
from commsvc.extensions import db
from commsvc.services import bulletins, lifecycle, reports
from commsvc.web.admin import bp, current_actor, or_404

ACTIONS = {
    "send": lifecycle.send,
    "pause": lifecycle.pause,
    "resume": lifecycle.resume,
    "cancel": lifecycle.cancel,
}


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
    if action not in ACTIONS:
        abort(404)
    if not actor.can_write:
        abort(403)
    try:
        ACTIONS[action](actor, found)
    except CommsvcError as error:
        db.session.rollback()
        flash(error.detail, "error")
    return redirect(url_for("admin.bulletin", bulletin_id=bulletin_id))


@bp.get("/admin/bulletins/<int:bulletin_id>/report")
@login_required
def bulletin_report(bulletin_id: int) -> Any:
    found = or_404(lambda: bulletins.get_bulletin(current_actor(), bulletin_id))
    return render_template(
        "admin/report.html",
        bulletin=found,
        report=reports.bulletin_report(found),
        width=reports.CHART_WIDTH,
        height=reports.CHART_HEIGHT,
    )


@bp.get("/admin/bulletins/<int:bulletin_id>/deliveries.csv")
@login_required
def bulletin_csv(bulletin_id: int) -> Any:
    found = or_404(lambda: bulletins.get_bulletin(current_actor(), bulletin_id))
    return Response(
        reports.deliveries_csv(found),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="bulletin-{found.id}-deliveries.csv"'
        },
    )
