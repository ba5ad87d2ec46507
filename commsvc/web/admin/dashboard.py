"""The dashboard (New bulletin, drafts, scheduled, sending live, recently sent with their
headline figures, members per partnership) and the partnerships page with each
partnership's rules for sending."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from commsvc.errors import CommsvcError
from commsvc.extensions import db
from commsvc.services.bulletins import composing, reports, sending_rules
from commsvc.services.members import organisation
from commsvc.web.admin import bp, current_actor, or_404
from commsvc.web.admin.form_errors import field_errors

RECENT = 60  # bulletins read for the dashboard, newest first


@bp.get("/admin")
@login_required
def dashboard() -> Any:
    actor = current_actor()
    recent = composing.list_bulletins(actor, limit=RECENT)
    sent = [b for b in recent if b.status in ("sent", "cancelled")][:10]
    return render_template(
        "admin/dashboard.html",
        drafts=[b for b in recent if b.status in ("draft", "approved")],
        scheduled=[b for b in recent if b.status == "scheduled"],
        sending=[
            (b, composing.bulletin_json(b)) for b in recent if b.status in ("sending", "paused")
        ],
        sent=[(b, reports.messages_sent(b)) for b in sent],
        partnerships=reports.partnership_member_counts(actor),
    )


@bp.get("/admin/new")
@login_required
def new_bulletin() -> Any:
    """The dashboard's New bulletin: straight to compose for the partnership chosen."""
    chosen = request.args.get("partnership", "")
    if not chosen.isdigit():
        flash("Choose the partnership the bulletin is for.", "error")
        return redirect(url_for("admin.dashboard"))
    return redirect(url_for("admin.compose", partnership_id=int(chosen)))


@bp.get("/admin/partnerships")
@login_required
def partnerships() -> Any:
    return _partnerships_page({})


@bp.post("/admin/partnerships/<int:partnership_id>/rules")
@login_required
def partnership_rules(partnership_id: int) -> Any:
    actor = current_actor()
    partnership = or_404(lambda: organisation.get_partnership(actor, partnership_id))
    if actor.role != "admin":
        abort(403)
    try:
        sending_rules.set_rules(
            actor,
            partnership,
            request.form.get("requires_approval") == "yes",
            request.form.get("confirm_above", ""),
        )
    except CommsvcError as error:
        db.session.rollback()
        return _partnerships_page(field_errors(error))
    flash(f"Saved the rules for sending to {partnership.name}.", "success")
    return redirect(url_for("admin.partnerships"))


def _partnerships_page(errors: dict[str, str]) -> Any:
    return render_template(
        "admin/partnerships.html",
        partnerships=reports.partnership_member_counts(current_actor()),
        errors=errors,
    ), (422 if errors else 200)
