"""Bulletins: create, approve, preview, send, pause, resume, cancel, status, deliveries;
and the reusable templates bulletins start from."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from flask import jsonify, request
from sqlalchemy import func, select

from commsvc.errors import CommsvcError, ValidationError
from commsvc.extensions import db
from commsvc.models import Delivery, Member
from commsvc.services.bulletins import composing, lifecycle, preview, templates
from commsvc.statuses import Channel, DeliveryStatus
from commsvc.web.api import bp, current_actor, json_body

PAGE_SIZE_LIMIT = 500


@bp.post("/bulletins")
def create_bulletin() -> Any:
    bulletin = composing.create_bulletin(current_actor(), json_body())
    return jsonify(composing.bulletin_json(bulletin)), 201


@bp.get("/bulletins")
def list_bulletins() -> Any:
    return jsonify(
        items=[composing.bulletin_json(b) for b in composing.list_bulletins(current_actor())]
    )


@bp.get("/bulletins/<int:bulletin_id>")
def get_bulletin(bulletin_id: int) -> Any:
    return jsonify(composing.bulletin_json(composing.get_bulletin(current_actor(), bulletin_id)))


@bp.post("/bulletins/<int:bulletin_id>/send")
def send_bulletin(bulletin_id: int) -> Any:
    bulletin = composing.get_bulletin(current_actor(), bulletin_id)
    body = json_body(optional=True)
    lifecycle.send(current_actor(), bulletin, _when(body.get("scheduled_for")))
    return jsonify(composing.bulletin_json(bulletin)), 202


@bp.post("/bulletins/<int:bulletin_id>/approve")
def approve_bulletin(bulletin_id: int) -> Any:
    bulletin = composing.get_bulletin(current_actor(), bulletin_id)
    lifecycle.approve(current_actor(), bulletin)
    return jsonify(composing.bulletin_json(bulletin))


@bp.post("/bulletins/<int:bulletin_id>/unschedule")
def unschedule_bulletin(bulletin_id: int) -> Any:
    bulletin = composing.get_bulletin(current_actor(), bulletin_id)
    lifecycle.unschedule(current_actor(), bulletin)
    return jsonify(composing.bulletin_json(bulletin))


@bp.post("/bulletins/<int:bulletin_id>/preview")
def preview_bulletin(bulletin_id: int) -> Any:
    bulletin = composing.get_bulletin(current_actor(), bulletin_id)
    body = json_body(optional=True)
    number = body.get("membership_number")
    if number is not None and not isinstance(number, str):
        raise ValidationError("membership_number must be text")
    previews = preview.preview(current_actor(), bulletin, number)
    return jsonify(items=[p.as_json() for p in previews])


@bp.post("/bulletins/<int:bulletin_id>/test-send")
def test_send_bulletin(bulletin_id: int) -> Any:
    bulletin = composing.get_bulletin(current_actor(), bulletin_id)
    body = json_body(optional=True)
    email, mobile = body.get("email") or "", body.get("mobile") or ""
    if not isinstance(email, str) or not isinstance(mobile, str):
        raise ValidationError("email and mobile must be text")
    queued = preview.test_send(current_actor(), bulletin, email, mobile)
    return jsonify(queued=queued), 202


@bp.get("/templates")
def list_templates() -> Any:
    name = request.args.get("name")
    actor = current_actor()
    found = templates.versions(actor, name) if name else templates.latest_templates(actor)
    return jsonify(items=[templates.template_json(t) for t in found])


@bp.post("/templates")
def create_template() -> Any:
    template = templates.save_template(current_actor(), json_body())
    return jsonify(templates.template_json(template)), 201


@bp.get("/templates/<int:template_id>")
def get_template(template_id: int) -> Any:
    return jsonify(templates.template_json(templates.get_template(current_actor(), template_id)))


@bp.post("/bulletins/<int:bulletin_id>/pause")
def pause_bulletin(bulletin_id: int) -> Any:
    bulletin = composing.get_bulletin(current_actor(), bulletin_id)
    lifecycle.pause(current_actor(), bulletin)
    return jsonify(composing.bulletin_json(bulletin)), 202


@bp.post("/bulletins/<int:bulletin_id>/resume")
def resume_bulletin(bulletin_id: int) -> Any:
    bulletin = composing.get_bulletin(current_actor(), bulletin_id)
    lifecycle.resume(current_actor(), bulletin)
    return jsonify(composing.bulletin_json(bulletin)), 202


@bp.post("/bulletins/<int:bulletin_id>/cancel")
def cancel_bulletin(bulletin_id: int) -> Any:
    bulletin = composing.get_bulletin(current_actor(), bulletin_id)
    lifecycle.cancel(current_actor(), bulletin)
    return jsonify(composing.bulletin_json(bulletin)), 202


@bp.get("/bulletins/<int:bulletin_id>/deliveries")
def list_deliveries(bulletin_id: int) -> Any:
    bulletin = composing.get_bulletin(current_actor(), bulletin_id)
    status, channel = _filter_arg("status"), _filter_arg("channel")
    page = _int_arg("page", 1, 1, 10**9)
    per_page = _int_arg("per_page", 100, 1, PAGE_SIZE_LIMIT)
    query = (
        select(Delivery, Member.membership_number)
        .join(Member, Member.id == Delivery.member_id)
        .where(Delivery.bulletin_id == bulletin.id)
    )
    if status is not None:
        if status not in DeliveryStatus.__members__.values():
            raise ValidationError(f"status must be one of {', '.join(DeliveryStatus)}")
        query = query.where(Delivery.status == status)
    if channel is not None:
        if channel not in Channel.__members__.values():
            raise ValidationError("channel must be email or sms")
        query = query.where(Delivery.channel == channel)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = db.session.execute(
        query.order_by(Delivery.id).offset((page - 1) * per_page).limit(per_page)
    ).all()
    return jsonify(
        items=[_delivery_json(delivery, number) for delivery, number in rows],
        page=page,
        per_page=per_page,
        total=total,
    )


def _delivery_json(delivery: Delivery, membership_number: str) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "membership_number": membership_number,
        "channel": delivery.channel,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "provider": delivery.provider,
        "provider_id": delivery.provider_id,
        "last_error": delivery.last_error,
        "sent_at": delivery.sent_at.isoformat() + "Z" if delivery.sent_at else None,
        "delivered_at": delivery.delivered_at.isoformat() + "Z" if delivery.delivered_at else None,
    }


def _when(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValidationError("scheduled_for must be an ISO 8601 date and time")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationError(
            "scheduled_for must be an ISO 8601 date and time, e.g. 2026-12-01T07:00:00Z"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def _filter_arg(name: str) -> str | None:
    """An empty filter is a mistake, not "everything": say so rather than list it all."""
    value = request.args.get(name)
    if value is not None and not value.strip():
        raise CommsvcError(f"{name} is empty: leave it out to list every {name}, or give one")
    return value


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    # ASCII digits only: int() also reads '١٢' and ' 12 ', which the document does not allow.
    if not re.fullmatch(r"-?[0-9]{1,12}", raw):
        raise ValidationError(f"{name} must be a whole number")
    value = int(raw)
    if not low <= value <= high:
        raise ValidationError(f"{name} must be between {low} and {high}")
    return value
