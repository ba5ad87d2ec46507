"""The outbox: what the local capture sinks received (demo and tests)."""

from __future__ import annotations

from typing import Any

from flask import render_template
from flask_login import login_required

from commsvc.services.delivery import capture
from commsvc.web.admin import bp, current_actor


@bp.get("/admin/outbox")
@login_required
def outbox() -> Any:
    """What the local capture sinks received: the demo's window on members' inboxes."""
    return render_template(
        "admin/outbox.html",
        emails=capture.recent_emails(current_actor(), limit=50),
        texts=capture.recent_texts(current_actor(), limit=50),
    )
