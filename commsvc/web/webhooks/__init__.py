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
from commsvc.web.webhooks import replay
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
    """Require X-Signature: the hex HMAC-SHA256 under the webhook secret of the raw
    body, or of `<X-Timestamp>.<raw body>` when the sender gives X-Timestamp."""

    @functools.wraps(view)
    def checked() -> Any:
        refused = _refuse_unsigned()
        return refused if refused is not None else view()

    return checked


def _refuse_unsigned() -> Any:
    body = request.get_data(cache=True)
    given = request.headers.get("X-Signature", "")
    timestamp = request.headers.get("X-Timestamp")
    secret = current_app.config["COMMSVC_WEBHOOK_SECRET"]
    if not is_signed(secret, body, given, timestamp.strip() if timestamp is not None else None):
        return unauthorized("Missing or wrong X-Signature.")
    if timestamp is not None and not replay.is_fresh(timestamp.strip()):
        return unauthorized(
            f"X-Timestamp is more than {replay.WINDOW_SECONDS} seconds from the server's clock."
        )
    return None


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
        _str(data.get("id")),
        _str(data.get("reference")),
        data["status"],
        _str(data.get("error")),
        provider_kind="sms_generic",
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
    # A replayed START after the member's STOP would text them again: each reply
    # counts once (see `replay`). A repeated STOP only confirms an opt-out, and a
    # member may well send STOP, START, STOP within minutes, so a STOP always counts.
    signature = request.headers.get("X-Signature", "").strip().lower()
    remembered = not _is_opt_out(data["body"])
    if remembered and not replay.first_sighting(signature):
        return jsonify(error="replayed", detail="This reply was received already."), 409
    number = data["from"].strip()
    try:
        action = preferences.apply_sms_keyword(number, data["body"])
        if action is None and questions.answer_by_sms(preferences.e164(number), data["body"]):
            action = "answer"  # "1", "2" or a choice's word: the latest open question by SMS
    except Exception:
        if remembered:
            replay.forget(signature)
        raise
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


def _is_opt_out(body: str) -> bool:
    """As preferences.apply_sms_keyword reads a reply."""
    return "".join(body.split()).upper().rstrip(".!") in preferences.STOP_WORDS


def _str(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None


from commsvc.web.webhooks import provider_formats  # noqa: E402,F401  (registers its routes)
