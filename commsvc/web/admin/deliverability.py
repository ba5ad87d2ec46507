"""The deliverability page (admins only): rates against the 0.3% line, suppressions."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from commsvc import uk_time
from commsvc.services.delivery import deliverability
from commsvc.web.admin import bp, current_actor, or_404
from commsvc.web.admin.asking import ask_first, confirmed


@bp.get("/admin/deliverability")
@login_required
def deliverability_page() -> Any:
    actor = current_actor()
    address = request.args.get("address", "")[:254]
    reason = request.args.get("reason", "")[:40]
    page = request.args.get("page", "1")
    by_bulletin, by_partnership = or_404(lambda: deliverability.rates(actor))
    found = or_404(
        lambda: deliverability.suppressions(
            actor, address, reason, int(page) if page.isdigit() else 1
        )
    )
    return render_template(
        "admin/deliverability.html",
        by_bulletin=by_bulletin,
        by_partnership=by_partnership,
        found=found,
        address=address,
        reason=reason,
        reasons=deliverability.reasons(),
        line=deliverability.LINE,
        days=deliverability.WINDOW_DAYS,
    )


@bp.get("/admin/deliverability/suppressions/<int:suppression_id>/lift")
@login_required
def confirm_lift_suppression(suppression_id: int) -> Any:
    """Lifting sends to an address that bounced or complained: say so first."""
    row = or_404(lambda: deliverability.get_suppression(current_actor(), suppression_id))
    what = "email address" if row.channel == "email" else "mobile number"
    return ask_first(
        heading=f"Send to this {what} again?",
        sentences=(
            f"This {what} was suppressed on {uk_time.for_people(row.created_at)} "
            f"({row.reason.replace('_', ' ')}). Once lifted, every bulletin that reaches "
            "its member is sent to it again, from the next message on.",
            "If it still bounces or complains, the union's sending reputation suffers. Lift "
            "it only when the member has confirmed the address works and wants messages.",
        ),
        button=f"Lift the suppression: send to this {what} again",
        action=url_for("admin.lift_suppression", suppression_id=row.id),
        back=url_for("admin.deliverability_page"),
    )


@bp.post("/admin/deliverability/suppressions/<int:suppression_id>/lift")
@login_required
def lift_suppression(suppression_id: int) -> Any:
    actor = current_actor()
    or_404(lambda: deliverability.get_suppression(actor, suppression_id))  # admins only
    if not confirmed():
        return redirect(url_for("admin.confirm_lift_suppression", suppression_id=suppression_id))
    row = or_404(lambda: deliverability.lift_suppression(actor, suppression_id))
    flash(
        f"Suppression lifted ({row.channel}, {row.reason}): the address is sent to again.",
        "success",
    )
    return redirect(url_for("admin.deliverability_page"))
