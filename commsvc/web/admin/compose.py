"""Composing a bulletin: write a draft (from a template or not), change it, count its
text message live, and keep reusable templates."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import login_required
from sqlalchemy import select

from commsvc.errors import CommsvcError
from commsvc.extensions import db
from commsvc.models import Topic
from commsvc.services.bulletins import composing, rendering, sandbox, sms_segments, targeting
from commsvc.services.bulletins import templates as message_templates
from commsvc.services.members import listing, organisation
from commsvc.web.admin import bp, compose_form, current_actor, or_404
from commsvc.web.admin.form_errors import field_errors
from commsvc.web.admin.question_form import question_from_form
from commsvc.web.ids import parse_id


@bp.route("/admin/partnerships/<int:partnership_id>/compose", methods=["GET", "POST"])
@login_required
def compose(partnership_id: int) -> Any:
    """A new draft; from a template when one is chosen (its words, topic and channels)."""
    actor = current_actor()
    partnership = or_404(lambda: organisation.get_partnership(actor, partnership_id))
    shown: dict[str, Any] = {"channels": ["email", "sms"]}
    template_id = parse_id(request.args.get("template"))
    if request.method == "GET" and template_id is not None:
        template = or_404(lambda: message_templates.get_template(actor, template_id))
        shown = compose_form.from_template(template)
    errors: dict[str, str] = {}
    if request.method == "POST":
        shown = compose_form.from_post(request.form)
        data = compose_form.read(request.form, partnership.id)
        errors = compose_form.missing(data)
        try:
            question = question_from_form(request.form)
        except CommsvcError as error:
            errors = {**field_errors(error), **errors}
        else:
            if question is not None:
                data["question"] = question
        if not errors:
            try:
                if request.form.get("save_as_template", "").strip():
                    saved = message_templates.save_template(
                        actor, {"name": request.form["save_as_template"], **data}
                    )
                    data["template"] = saved.id
                bulletin = composing.create_bulletin(actor, data)
            except CommsvcError as error:
                db.session.rollback()
                errors = field_errors(error)
            else:
                flash("Draft saved. Check how it looks for members before sending.", "success")
                return redirect(url_for("admin.preview", bulletin_id=bulletin.id))
    return _compose_page(partnership, shown, errors, bulletin=None)


@bp.route("/admin/bulletins/<int:bulletin_id>/edit", methods=["GET", "POST"])
@login_required
def edit(bulletin_id: int) -> Any:
    """Change a draft; an approved bulletin goes back to draft when changed."""
    actor = current_actor()
    found = or_404(lambda: composing.get_bulletin(actor, bulletin_id))
    if found.status not in composing.EDITABLE:
        flash(f"This bulletin is {found.status}; only a draft can be changed.", "error")
        return redirect(url_for("admin.bulletin", bulletin_id=found.id))
    shown = compose_form.from_bulletin(found)
    errors: dict[str, str] = {}
    if request.method == "POST":
        shown = compose_form.from_post(request.form)
        data = compose_form.read(request.form, found.partnership_id)
        errors = compose_form.missing(data)
        if not errors:
            was_approved = found.status == "approved"
            try:
                composing.update_bulletin(actor, found, data)
            except CommsvcError as error:
                db.session.rollback()
                errors = field_errors(error)
            else:
                withdrawn = " The approval was withdrawn: it needs approving again."
                flash("Changes saved." + (withdrawn if was_approved else ""), "success")
                return redirect(url_for("admin.preview", bulletin_id=found.id))
    return _compose_page(found.partnership, shown, errors, bulletin=found)


def _compose_page(
    partnership: Any, shown: dict[str, Any], errors: dict[str, str], bulletin: Any
) -> Any:
    topics = db.session.scalars(select(Topic).order_by(Topic.name)).all()
    return render_template(
        "admin/compose.html",
        partnership=partnership,
        bulletin=bulletin,
        topics=topics,
        form=shown,
        errors=errors,
        targeting=targeting.choices(partnership),
        templates=message_templates.latest_templates(current_actor()),
        variables=sandbox.VARIABLES,
        filters=sandbox.FILTERS,
        limits={"warn": sms_segments.WARN_SEGMENTS, "max": sms_segments.MAX_SEGMENTS},
        opt_out_note=rendering.sms_opt_out_note(current_app.config),
    ), (422 if errors else 200)


@bp.post("/admin/sms-count.json")
@login_required
def sms_count() -> Any:
    """The live counter's one source of truth: render the sample, count what is sent.

    Any length is counted (a long paste shows how far over it is, never "undefined");
    only what is not text at all is refused."""
    body = request.get_json(silent=True)
    source = body.get("sms_body") if isinstance(body, dict) else None
    if not isinstance(source, str) or len(source) > composing.BODY_LIMIT:
        return jsonify(error="invalid", detail="Send the text message as text."), 400
    if len(source) > composing.SMS_BODY_LIMIT:
        counted = sms_segments.count(source)
        return jsonify(
            **counted.as_json(),
            text=source,
            too_long=True,
            template_error=None,
            limit_note=f"at most {composing.SMS_BODY_LIMIT:,} characters can be saved; "
            f"remove {len(source) - composing.SMS_BODY_LIMIT:,}",
        )
    try:
        compiled = rendering.compile_bulletin("", "", source)
        text = compiled.render_sms(rendering.sample_context())
    except CommsvcError as error:
        return jsonify(error=None, template_error=error.detail)
    counted = sms_segments.count(text)
    too_long = counted.segments > sms_segments.MAX_SEGMENTS
    note = f"at most {sms_segments.MAX_SEGMENTS} segments can be saved" if too_long else None
    return jsonify(
        **counted.as_json(), text=text, too_long=too_long, template_error=None, limit_note=note
    )


@bp.route("/admin/templates", methods=["GET", "POST"])
@login_required
def templates() -> Any:
    """Reusable templates: the latest version of each, and a form that adds a version."""
    form: Any = {"channels": ["email", "sms"]}
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = compose_form.from_post(request.form)
        data = request.form.to_dict() | {"channels": request.form.getlist("channels")}
        try:
            saved = message_templates.save_template(current_actor(), data)
        except CommsvcError as error:
            db.session.rollback()
            errors = field_errors(error, fallback="subject")
        else:
            flash(f"Saved {saved.name!r} as version {saved.version}.", "success")
            return redirect(url_for("admin.templates"))
    elif request.args.get("name"):
        versions = message_templates.versions(current_actor(), request.args["name"])
        form = message_templates.template_json(versions[-1]) if versions else form
    latest = message_templates.latest_templates(current_actor())
    return render_template(
        "admin/templates.html",
        templates=latest,
        versions={t.name: message_templates.versions(current_actor(), t.name) for t in latest},
        partnerships=organisation.list_partnerships(current_actor()),
        topics=db.session.scalars(select(Topic).order_by(Topic.name)).all(),
        regions=listing.visible_regions(current_actor()),
        all_regions=current_actor().region_ids is None,
        form=form,
        errors=errors,
        variables=sandbox.VARIABLES,
        filters=sandbox.FILTERS,
    ), (422 if errors else 200)
