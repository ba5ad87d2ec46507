"""The dashboard (bulletins in flight, recent results, members per partnership) and the
partnerships page."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_login import login_required

from commsvc.services.bulletins import composing, reports
from commsvc.web.admin import bp, current_actor

IN_FLIGHT = ("sending", "paused", "scheduled")


@bp.get("/admin")
@login_required
def dashboard() -> Any:
    actor = current_actor()
    recent = [(b, composing.bulletin_json(b)) for b in composing.list_bulletins(actor, limit=30)]
    return render_template(
        "admin/dashboard.html",
        in_flight=[(b, s) for b, s in recent if b.status in IN_FLIGHT],
        finished=[(b, s) for b, s in recent if b.status not in IN_FLIGHT][:10],
        partnerships=reports.partnership_member_counts(actor),
    )


@bp.get("/admin/partnerships")
@login_required
def partnerships() -> Any:
    return render_template(
        "admin/partnerships.html",
        partnerships=reports.partnership_member_counts(current_actor()),
    )
