"""Composing a bulletin: write (from a template or not), preview, approve, test, schedule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from commsvc.errors import CommsvcError, ValidationError
from commsvc.extensions import db
from commsvc.models import Topic
from commsvc.services.bulletins import (
    composing,
    lifecycle,
    preview,
    rendering,
    sandbox,
    sms_segments,
)
from commsvc.services.bulletins import (
    templates as message_templates,
)
from commsvc.services.members import listing, organisation
from commsvc.web.admin import bp, current_actor, or_404
from commsvc.web.admin.question_form import question_from_form
from commsvc.web.ids import parse_id

# The member's email HTML, in a sandboxed frame (no scripts), framed by the preview page only.
_EMAIL_FRAME_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; frame-ancestors 'self'"
)


@bp.route("/admin/partnerships/<int:partnership_id>/compose", methods=["GET", "POST"])
@login_required
def compose(partnership_id: int) -> Any:
    actor = current_actor()
    partnership = or_404(lambda: organisation.get_partnership(actor, partnership_id))
    topics = db.session.scalars(select(Topic).order_by(Topic.name)).all()
    form: Any = request.form
    template_id = parse_id(request.args.get("template"))
    if request.method == "GET" and template_id is not None:
        template = or_404(lambda: message_templates.get_template(actor, template_id))
        form = {f: getattr(template, f) for f in message_templates.FIELDS} | {
            "template": str(template.id)
        }
    if request.method == "POST":
        data = {
            "partnership": partnership.id,
            "title": form.get("title", ""),
            "topic": form.get("topic", ""),
            "channels": form.getlist("channels"),
            "subject": form.get("subject", ""),
            "email_body": form.get("email_body", ""),
            "sms_body": form.get("sms_body", ""),
            "subject_cy": form.get("subject_cy", ""),
            "email_body_cy": form.get("email_body_cy", ""),
            "sms_body_cy": form.get("sms_body_cy", ""),
            "public": form.get("public") == "on",
            "audience": {"service_groups": form.getlist("service_groups")},
        }
        chosen = parse_id(form.get("template", ""))
        if chosen is not None:
            data["template"] = chosen
        question = question_from_form(form)
        if question is not None:
            data["question"] = question
        try:
            if form.get("save_as_template", "").strip():
                saved = message_templates.save_template(
                    actor, {"name": form["save_as_template"], **data}
                )
                data["template"] = saved.id
            bulletin = composing.create_bulletin(actor, data)
        except CommsvcError as error:
            db.session.rollback()
            flash(error.detail, "error")
        else:
            flash("Draft saved. Preview it to check how it looks for members.", "success")
            return redirect(url_for("admin.bulletin", bulletin_id=bulletin.id))
    return render_template(
        "admin/compose.html",
        partnership=partnership,
        topics=topics,
        form=form,
        templates=message_templates.latest_templates(actor),
        variables=sandbox.VARIABLES,
        filters=sandbox.FILTERS,
        limits={"warn": sms_segments.WARN_SEGMENTS, "max": sms_segments.MAX_SEGMENTS},
    )


@bp.post("/admin/sms-count.json")
@login_required
def sms_count() -> Any:
    """The live counter's one source of truth: render the sample, count what is sent."""
    body = request.get_json(silent=True)
    source = body.get("sms_body") if isinstance(body, dict) else None
    if not isinstance(source, str) or len(source) > composing.SMS_BODY_LIMIT:
        return jsonify(error="invalid", detail="sms_body must be text"), 400
    try:
        compiled = rendering.compile_bulletin("", "", source)
        text = compiled.render_sms(rendering.sample_context())
    except CommsvcError as error:
        return jsonify(error=None, template_error=error.detail)
    counted = sms_segments.count(text)
    too_long = counted.segments > sms_segments.MAX_SEGMENTS
    return jsonify(**counted.as_json(), text=text, too_long=too_long, template_error=None)


@bp.get("/admin/bulletins/<int:bulletin_id>/preview", endpoint="preview")
@login_required
def preview_page(bulletin_id: int) -> Any:
    actor = current_actor()
    found = or_404(lambda: composing.get_bulletin(actor, bulletin_id))
    number = request.args.get("member", "").strip()
    try:
        previews = preview.preview(actor, found, number or None)
    except CommsvcError as error:
        flash(error.detail, "error")
        previews = preview.preview(actor, found)
        number = ""
    return render_template(
        "admin/preview.html",
        bulletin=found,
        previews=previews,
        number=number,
        warnings=composing.warnings(found),
        history=lifecycle.history(found.id),
        own_email=getattr(current_user, "email", ""),
    )


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


@bp.post("/admin/bulletins/<int:bulletin_id>/approve")
@login_required
def approve(bulletin_id: int) -> Any:
    return _act(bulletin_id, lambda actor, b: lifecycle.approve(actor, b), "Approved.")


@bp.post("/admin/bulletins/<int:bulletin_id>/schedule")
@login_required
def schedule(bulletin_id: int) -> Any:
    def act(actor: Any, found: Any) -> None:
        raw = request.form.get("scheduled_for", "")
        try:
            when = datetime.fromisoformat(raw)
        except ValueError:
            raise ValidationError("Choose a date and time (UTC) to send at.") from None
        lifecycle.send(actor, found, when.replace(tzinfo=None, second=0, microsecond=0))

    return _act(bulletin_id, act, "Scheduled.")


@bp.post("/admin/bulletins/<int:bulletin_id>/test-send")
@login_required
def test_send(bulletin_id: int) -> Any:
    def act(actor: Any, found: Any) -> None:
        queued = preview.test_send(
            actor, found, request.form.get("email", ""), request.form.get("mobile", "")
        )
        flash("Test sent to " + " and ".join(queued) + ".", "success")

    return _act(bulletin_id, act, None)


@bp.route("/admin/templates", methods=["GET", "POST"])
@login_required
def templates() -> Any:
    """Reusable templates: the latest version of each, and a form that adds a version."""
    form: Any = request.form
    if request.method == "POST":
        try:
            saved = message_templates.save_template(current_actor(), form.to_dict())
        except CommsvcError as error:
            db.session.rollback()
            flash(error.detail, "error")
        else:
            flash(f"Saved {saved.name!r} as version {saved.version}.", "success")
            return redirect(url_for("admin.templates"))
    elif request.args.get("name"):
        versions = message_templates.versions(current_actor(), request.args["name"])
        form = message_templates.template_json(versions[-1]) if versions else {}
    latest = message_templates.latest_templates(current_actor())
    return render_template(
        "admin/templates.html",
        templates=latest,
        versions={t.name: message_templates.versions(current_actor(), t.name) for t in latest},
        partnerships=organisation.list_partnerships(current_actor()),
        regions=listing.visible_regions(current_actor()),
        all_regions=current_actor().region_ids is None,
        form=form,
        variables=sandbox.VARIABLES,
        filters=sandbox.FILTERS,
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
