"""The deliverability page (admins only): rates against the 0.3% line, suppressions."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import login_required

from commsvc.services.delivery import deliverability
from commsvc.web.admin import bp, current_actor, or_404


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


@bp.post("/admin/deliverability/suppressions/<int:suppression_id>/lift")
@login_required
def lift_suppression(suppression_id: int) -> Any:
    actor = current_actor()
    row = or_404(lambda: deliverability.lift_suppression(actor, suppression_id))
    flash(
        f"Suppression lifted ({row.channel}, {row.reason}): the address is sent to again.",
        "success",
    )
    return redirect(url_for("admin.deliverability_page"))
