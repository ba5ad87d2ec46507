"""The check page: the bulletin as sample members get it (email and text side by side),
the audience breakdown, the warnings, approval, a test to yourself, and the way on to
sending. Nothing on this page sends to members: Send and Schedule lead to the
confirmation page (confirm.py), which states what will happen."""

from __future__ import annotations

from typing import Any

from flask import (
    Response,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user, login_required
from sqlalchemy import select

from commsvc.errors import CommsvcError, ValidationError
from commsvc.extensions import db
from commsvc.models import Topic
from commsvc.services.bulletins import (
    audience,
    audience_preview,
    composing,
    lifecycle,
    preview,
    rendering,
)
from commsvc.services.members import organisation
from commsvc.web.admin import bp, compose_form, current_actor, or_404

# The member's email HTML, in a sandboxed frame (no scripts), framed by the preview page only.
_EMAIL_FRAME_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'"
)


@bp.get("/admin/bulletins/<int:bulletin_id>/preview", endpoint="preview")
@login_required
def check_page(bulletin_id: int) -> Any:
    actor = current_actor()
    found = or_404(lambda: composing.get_bulletin(actor, bulletin_id))
    return render_check(found)


def render_check(
    found: Any, errors: dict[str, str] | None = None, send_date: str = "", send_time: str = ""
) -> Any:
    """The check page; with errors when a time to send was refused (then 422)."""
    actor = current_actor()
    number = request.args.get("member", "").strip()
    try:
        previews = preview.preview(actor, found, number or None)
    except CommsvcError as error:
        flash(error.detail, "error")
        previews = preview.preview(actor, found)
        number = ""
    breakdown = audience_preview.audience_preview(
        found.partnership_id, found.audience, found.topic_id, list(found.channels)
    )
    page = render_template(
        "admin/preview.html",
        bulletin=found,
        previews=previews,
        email_from=preview.sender_of(found),
        number=number,
        breakdown=breakdown,
        warnings=composing.warnings(found) + breakdown.warnings,
        history=lifecycle.history(found.id),
        own_email=getattr(current_user, "email", ""),
        can_approve=_can_approve(found),
        errors=errors or {},
        send_date=send_date,
        send_time=send_time,
        sms_sender=rendering.sms_sender(current_app.config),
    )
    return page, (422 if errors else 200)


@bp.get("/admin/bulletins/<int:bulletin_id>/preview/<int:index>/email.html")
@login_required
def preview_email(bulletin_id: int, index: int) -> Any:
    actor = current_actor()
    found = or_404(lambda: composing.get_bulletin(actor, bulletin_id))
    previews = or_404(lambda: preview.preview(actor, found, request.args.get("member") or None))
    chosen = previews[index] if index < len(previews) else None
    html = chosen.email.html if chosen and chosen.email else "<p>No email for this bulletin.</p>"
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = _EMAIL_FRAME_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response


@bp.post("/admin/partnerships/<int:partnership_id>/audience.json")
@login_required
def audience_breakdown(partnership_id: int) -> Any:
    """The compose page's live breakdown: the targeting, topic and channels as ticked now."""
    partnership = or_404(lambda: organisation.get_partnership(current_actor(), partnership_id))
    data = compose_form.read(request.form, partnership.id)
    topic = db.session.scalar(select(Topic).where(Topic.name == data["topic"]))
    channels = [c for c in data["channels"] if c in ("email", "sms")]
    try:
        filters = audience.clean_filters(data["audience"])
    except ValidationError as error:
        return jsonify(error="invalid", detail=error.detail), 400
    if topic is None or not channels:
        return jsonify(audience_size=audience.audience_size(partnership.id, filters), channels={})
    counted = audience_preview.audience_preview(partnership.id, filters, topic.id, channels)
    return jsonify(counted.as_json())


@bp.post("/admin/bulletins/<int:bulletin_id>/approve")
@login_required
def approve(bulletin_id: int) -> Any:
    return _act(bulletin_id, lambda actor, b: lifecycle.approve(actor, b), "Approved.")


@bp.post("/admin/bulletins/<int:bulletin_id>/test-send")
@login_required
def test_send(bulletin_id: int) -> Any:
    def act(actor: Any, found: Any) -> None:
        queued = preview.test_send(
            actor, found, request.form.get("email", ""), request.form.get("mobile", "")
        )
        flash("Test sent to " + " and ".join(queued) + ".", "success")

    return _act(bulletin_id, act, None)


def _can_approve(bulletin: Any) -> bool:
    """Approve is offered to someone who may approve: a writer, not the author, while the
    partnership asks for approval and the bulletin is a draft."""
    return (
        bulletin.status == "draft"
        and bulletin.partnership.requires_approval
        and current_actor().can_write
        and current_actor().label != bulletin.created_by
    )


def _act(bulletin_id: int, action: Any, done: str | None) -> Any:
    actor = current_actor()
    found = or_404(lambda: composing.get_bulletin(actor, bulletin_id))
    try:
        action(actor, found)
    except CommsvcError as error:
        db.session.rollback()
        flash(error.detail, "error")
    else:
        if done:
            flash(done, "success")
    return redirect(url_for("admin.preview", bulletin_id=bulletin_id))
