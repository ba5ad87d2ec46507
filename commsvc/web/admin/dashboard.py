"""The dashboard: partnerships and bulletins in flight."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_login import login_required

from commsvc.services import bulletins, organisation
from commsvc.web.admin import bp, current_actor


@bp.get("/admin")
@login_required
def dashboard() -> Any:
    actor = current_actor()
    return render_template(
        "admin/dashboard.html",
        partnerships=organisation.list_partnerships(actor),
        bulletins=[
            (b, bulletins.bulletin_json(b)) for b in bulletins.list_bulletins(actor, limit=20)
        ],
    )
