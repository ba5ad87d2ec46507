"""The outbox: what the local capture sinks received (demo and tests), searchable and
paged, with each email shown as the member sees it."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request
from flask_login import login_required

from commsvc.services.delivery import capture
from commsvc.web.admin import bp, current_actor

# The member's email HTML, in a sandboxed frame (no scripts), framed by the outbox only.
_EMAIL_FRAME_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'"
)


@bp.get("/admin/outbox")
@login_required
def outbox() -> Any:
    """What the local capture sinks received: the demo's window on members' inboxes."""
    search = request.args.get("q", "")[:200]
    raw = request.args.get("page", "1")
    page = min(int(raw), 100_000) if raw.isdigit() and int(raw) > 0 else 1
    return render_template(
        "admin/outbox.html",
        search=search,
        emails=capture.emails_page(current_actor(), search, page),
        texts=capture.texts_page(current_actor(), search, page),
        page=page,
    )


@bp.get("/admin/outbox/<name>")
@login_required
def outbox_email(name: str) -> Any:
    parts = capture.email_parts(current_actor(), name)
    if parts is None:
        abort(404)
    return render_template(
        "admin/outbox_email.html",
        name=name,
        email=parts,
        bulletin_id=capture.bulletin_of(parts["delivery"]),
    )


@bp.get("/admin/outbox/<name>/email.html")
@login_required
def outbox_email_html(name: str) -> Any:
    parts = capture.email_parts(current_actor(), name)
    if parts is None:
        abort(404)
    response = Response(
        parts["html"] or "<p>This email has no HTML part.</p>", mimetype="text/html"
    )
    response.headers["Content-Security-Policy"] = _EMAIL_FRAME_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
