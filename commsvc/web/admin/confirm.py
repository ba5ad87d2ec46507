"""Confirming a send: the page that says exactly what will happen ("Send 150 emails and
120 text messages to 180 members of …"), and the one button that does it.

The check page's Send and Schedule buttons only GET this page, so one click sends
nothing. The send itself is a POST carrying the fingerprint of what was shown, the
acknowledged warnings and, for a large audience, the number of members typed in.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import login_required

from commsvc import uk_time
from commsvc.errors import CommsvcError, ValidationError
from commsvc.extensions import db
from commsvc.models.base import utcnow
from commsvc.services.bulletins import composing, confirmation
from commsvc.web.admin import bp, current_actor, or_404
from commsvc.web.admin.check import render_check
from commsvc.web.admin.form_errors import field_errors


@bp.get("/admin/bulletins/<int:bulletin_id>/confirm")
@login_required
def confirm(bulletin_id: int) -> Any:
    actor = current_actor()
    found = or_404(lambda: composing.get_bulletin(actor, bulletin_id))
    if not actor.can_write:
        return redirect(url_for("admin.preview", bulletin_id=found.id))
    send_date = request.args.get("send_date", "")
    send_time = request.args.get("send_time", "")
    try:
        when = _when(request.args.get("when", "now"), send_date, send_time)
        planned = confirmation.plan(found, when)
    except CommsvcError as error:
        return render_check(found, field_errors(error, "when"), send_date, send_time)
    return _confirm_page(planned, {})


@bp.post("/admin/bulletins/<int:bulletin_id>/send")
@login_required
def send(bulletin_id: int) -> Any:
    actor = current_actor()
    found = or_404(lambda: composing.get_bulletin(actor, bulletin_id))
    if not actor.can_write:
        abort(403)
    form = request.form
    when = _stored_time(form.get("scheduled_for", ""))
    try:
        planned = confirmation.send_confirmed(
            actor,
            found,
            when,
            form.get("fingerprint", ""),
            form.get("typed_count", ""),
            set(form.getlist("acknowledge")),
        )
    except CommsvcError as error:
        db.session.rollback()
        if found.status not in confirmation.SENDABLE:
            flash(error.detail, "error")
            return redirect(url_for("admin.bulletin", bulletin_id=found.id))
        try:
            planned = confirmation.plan(found, when)
        except CommsvcError:
            flash(error.detail, "error")
            return redirect(url_for("admin.preview", bulletin_id=found.id))
        return _confirm_page(planned, field_errors(error, "send"))
    flash(
        ("Sending: " if when is None else "Scheduled: ")
        + planned.sentence[0].lower()
        + planned.sentence[1:]
        + ".",
        "success",
    )
    return redirect(url_for("admin.bulletin", bulletin_id=found.id))


def _confirm_page(planned: confirmation.SendPlan, errors: dict[str, str]) -> Any:
    return render_template(
        "admin/confirm.html",
        plan=planned,
        bulletin=planned.bulletin,
        errors=errors,
    ), (422 if errors else 200)


def _when(choice: str, send_date: str, send_time: str) -> datetime | None:
    """None for now; a future naive UTC time for a schedule (a passed one is refused)."""
    if choice != "later":
        return None
    moment = uk_time.parse_form(send_date, send_time, day_field="send_date", time_field="send_time")
    if moment <= utcnow():
        raise ValidationError(
            f"{uk_time.for_people(moment)} has passed. Choose a time in the future.",
            field="send_date",
        )
    return moment


def _stored_time(raw: str) -> datetime | None:
    try:
        return datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None
