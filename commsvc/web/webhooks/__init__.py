"""Callbacks from gateways: delivery receipts, email events, inbound SMS replies.

Each route checks its sender's signature first (see `signatures`): a missing or
wrong one gets 401 and nothing changes. Bad bodies get 400. Applying a receipt is
idempotent and forward-only (services.receipts), so a replay changes nothing.
commsvc's own protocol lives here; the provider formats in `provider_formats`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from commsvc.services.bulletins import questions
from commsvc.services.delivery import receipts
from commsvc.services.members import preferences
from commsvc.web.webhooks.signatures import is_signed, sign

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
MAX_WEBHOOK_BYTES = 64 * 1024

__all__ = ["bp", "sign"]


@bp.before_request
def _limit_size() -> Any:
    if len(request.get_data(cache=True)) > MAX_WEBHOOK_BYTES:
        return jsonify(error="too_large", detail="The body is too large."), 413
    return None


def signed(view: Callable[[], Any]) -> Callable[[], Any]:
    """Require X-Signature: the hex HMAC-SHA256 of the raw body under the webhook secret."""

    @functools.wraps(view)
    def checked() -> Any:
        body = request.get_data(cache=True)
        given = request.headers.get("X-Signature", "")
        if not is_signed(current_app.config["COMMSVC_WEBHOOK_SECRET"], body, given):
            return unauthorized("Missing or wrong X-Signature.")
        return view()

    return checked


def unauthorized(detail: str) -> Any:
    return jsonify(error="unauthorized", detail=detail), 401


def bad_request(detail: str) -> Any:
    return jsonify(error="bad_request", detail=detail), 400


@bp.post("/sms/status")
@signed
def sms_status() -> Any:
    data = _payload()
    if data is None or not isinstance(data.get("status"), str):
        return bad_request('Expected JSON {"id", "reference", "status"}.')
    moved = receipts.apply_sms_receipt(
        _str(data.get("id")), _str(data.get("reference")), data["status"], _str(data.get("error"))
    )
    return jsonify(ok=True, changed=moved)


@bp.post("/sms/inbound")
@signed
def sms_inbound() -> Any:
    data = _payload()
    if (
        data is None
        or not isinstance(data.get("from"), str)
        or not isinstance(data.get("body"), str)
    ):
        return bad_request('Expected JSON {"from", "body"}.')
    number = data["from"].strip()
    action = preferences.apply_sms_keyword(number, data["body"])
    if action is None and questions.answer_by_sms(preferences.e164(number), data["body"]):
        action = "answer"  # "1", "2" or a choice's word: the latest open question by SMS
    return jsonify(ok=True, action=action)


@bp.post("/email/events")
@signed
def email_events() -> Any:
    """`{"type": "bounce|complaint|delivered", "id"?, "reference"?, "bounce_type"?:
    "hard|soft", "reason"?}`; `reference` is the delivery id (X-Commsvc-Delivery)."""
    data = _payload()
    if (
        data is None
        or data.get("type") not in receipts.EMAIL_EVENTS
        or not (_str(data.get("id")) or _str(data.get("reference")))
    ):
        return bad_request(
            'Expected JSON {"type": "bounce|complaint|delivered", "id" or "reference"}.'
        )
    changed = receipts.apply_email_event(
        _str(data.get("id")),
        _str(data.get("reference")),
        data["type"],
        hard=data.get("bounce_type", "hard") == "hard",
        reason=_str(data.get("reason")),
    )
    return jsonify(ok=True, changed=changed)


def _payload() -> dict[str, Any] | None:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None


def _str(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


from commsvc.web.webhooks import provider_formats  # noqa: E402,F401  (registers its routes)
