"""The audit log page (admins only): who did what, when."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_login import login_required

from commsvc.services.accounts import audit
from commsvc.web.admin import bp, current_actor, or_404
from commsvc.web.ids import parse_id


@bp.get("/admin/audit")
@login_required
def audit_log() -> Any:
    actor = current_actor()
    page = request.args.get("page", "1")
    action = request.args.get("action", "")[:60]
    who = request.args.get("who", "")[:254]
    found = or_404(lambda: audit.list_entries(actor, parse_id(page) or 1, action, who))
    return render_template(
        "admin/audit.html", found=found, actions=audit.actions(), action=action, who=who
    )
