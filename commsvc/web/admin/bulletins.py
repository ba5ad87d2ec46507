"""A bulletin's page (live progress, counts, lifecycle actions) and its report."""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import login_required

from commsvc.errors import CommsvcError
from commsvc.extensions import db
from commsvc.services.bulletins import composing, lifecycle, reports, stopping
from commsvc.statuses import BULLETIN_MOVES, BulletinStatus, DeliveryStatus
from commsvc.web.admin import bp, current_actor, or_404

# Sending is not here: it goes through the check and confirmation pages (confirm.py).
# Pause is one click (the brake; it sends nothing); the others open a page that says
# exactly what will happen, with counts, and act only from there (stopping.py).
LABELS = {
    "unschedule": "Cancel the scheduled send…",
    "pause": "Pause",
    "resume": "Resume sending…",
    "cancel": "Cancel the bulletin…",
}
# What each action moves a bulletin to, so a page offers only the moves allowed now.
TARGETS = {
    "unschedule": BulletinStatus.DRAFT,
    "pause": BulletinStatus.PAUSED,
    "resume": BulletinStatus.SENDING,
    "cancel": BulletinStatus.CANCELLED,
}


@bp.get("/admin/bulletins/<int:bulletin_id>")
@login_required
def bulletin(bulletin_id: int) -> Any:
    found = or_404(lambda: composing.get_bulletin(current_actor(), bulletin_id))
    current = BulletinStatus(found.status)
    allowed = [
        (action, LABELS[action])
        for action, target in TARGETS.items()
        if target in BULLETIN_MOVES[current]
        and (action != "resume" or current == BulletinStatus.PAUSED)
        and (action != "unschedule" or current == BulletinStatus.SCHEDULED)
    ]
    page = _page_number()
    search = request.args.get("q", "")
    status_filter = request.args.get("status", "")
    rows, total = reports.deliveries_page(found, search, status_filter, page)
    return render_template(
        "admin/bulletin.html",
        bulletin=found,
        status=composing.bulletin_json(found),
        actions=allowed,
        sent_messages=reports.messages_sent(found),
        deliveries=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // reports.PAGE_SIZE)),
        search=search,
        status_filter=status_filter,
        statuses=[str(s) for s in DeliveryStatus],
    )


def _page_number() -> int:
    raw = request.args.get("page", "1")
    return min(int(raw), 1_000_000) if raw.isdigit() and int(raw) > 0 else 1


@bp.get("/admin/bulletins/<int:bulletin_id>/status.json")
@login_required
def bulletin_status(bulletin_id: int) -> Any:
    found = or_404(lambda: composing.get_bulletin(current_actor(), bulletin_id))
    return jsonify(composing.bulletin_json(found))


@bp.get("/admin/bulletins/<int:bulletin_id>/<action>/confirm")
@login_required
def confirm_action(bulletin_id: int, action: str) -> Any:
    """The page that says what cancelling (or resuming) will do, and its one button."""
    actor = current_actor()
    found = or_404(lambda: composing.get_bulletin(actor, bulletin_id))
    if action not in stopping.ASKED_FIRST:
        abort(404)
    if not actor.can_write:
        abort(403)
    try:
        stated = stopping.consequence(found, action)
    except CommsvcError as error:
        flash(error.detail, "error")
        return redirect(url_for("admin.bulletin", bulletin_id=bulletin_id))
    return render_template("admin/confirm_action.html", bulletin=found, stated=stated)


@bp.post("/admin/bulletins/<int:bulletin_id>/<action>")
@login_required
def bulletin_action(bulletin_id: int, action: str) -> Any:
    actor = current_actor()
    found = or_404(lambda: composing.get_bulletin(actor, bulletin_id))
    if action != "pause" and action not in stopping.ASKED_FIRST:
        abort(404)
    if not actor.can_write:
        abort(403)
    try:
        if action == "pause":
            lifecycle.pause(actor, found)
            flash("Paused: nothing more is sent until you resume.", "success")
        else:
            stated = stopping.carry_out(actor, found, action, request.form.get("status_seen", ""))
            flash(_DONE[action].format(title=found.title, stated=stated), "success")
    except CommsvcError as error:
        db.session.rollback()
        flash(error.detail, "error")
        if action != "pause" and found.status in _STILL_POSSIBLE[action]:
            return redirect(url_for("admin.confirm_action", bulletin_id=found.id, action=action))
    return redirect(url_for("admin.bulletin", bulletin_id=bulletin_id))


_DONE = {
    "unschedule": "The scheduled send is cancelled; ‘{title}’ is a draft again.",
    "cancel": "‘{title}’ is cancelled. Nothing more of it will be sent.",
    "resume": "Sending again: {stated.sentences[0]}",
}
# Where a refused action can still be asked again (the status moved to another allowed one).
_STILL_POSSIBLE = {
    "unschedule": ("scheduled",),
    "cancel": ("draft", "approved", "scheduled", "sending", "paused"),
    "resume": ("paused",),
}


@bp.get("/admin/bulletins/<int:bulletin_id>/report")
@login_required
def bulletin_report(bulletin_id: int) -> Any:
    found = or_404(lambda: composing.get_bulletin(current_actor(), bulletin_id))
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
    found = or_404(lambda: composing.get_bulletin(current_actor(), bulletin_id))
    # Streamed: the generator runs after this function returns, so it keeps the
    # request's context (and its database session) with it, under gunicorn as anywhere.
    return Response(
        stream_with_context(reports.deliveries_csv(found)),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="bulletin-{found.id}-deliveries.csv"'
        },
    )
