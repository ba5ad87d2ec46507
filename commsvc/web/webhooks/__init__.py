"""Callbacks from gateways: SMS status receipts and inbound replies.

Every request must carry X-Signature, the hex HMAC-SHA256 of the raw body under
COMMSVC_WEBHOOK_SECRET; without a valid one the answer is 401 and nothing changes.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from flask import Blueprint, current_app, jsonify, request

from commsvc.services import preferences, receipts

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
MAX_WEBHOOK_BYTES = 64 * 1024


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@bp.before_request
def _verify_signature() -> Any:
    body = request.get_data(cache=True)
    if len(body) > MAX_WEBHOOK_BYTES:
        return jsonify(error="too_large", detail="The body is too large."), 413
    given = request.headers.get("X-Signature", "")
    expected = sign(current_app.config["COMMSVC_WEBHOOK_SECRET"], body)
    if not hmac.compare_digest(given.strip().lower(), expected):
        return jsonify(error="unauthorized", detail="Missing or wrong X-Signature."), 401
    return None


def _payload() -> dict[str, Any] | None:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else None


@bp.post("/sms/status")
def sms_status() -> Any:
    data = _payload()
    if data is None or not isinstance(data.get("status"), str):
        return jsonify(
            error="bad_request", detail='Expected JSON {"id", "reference", "status"}.'
        ), 400
    moved = receipts.apply_sms_receipt(
        _str(data.get("id")), _str(data.get("reference")), data["status"], _str(data.get("error"))
    )
    return jsonify(ok=True, changed=moved)


@bp.post("/sms/inbound")
def sms_inbound() -> Any:
    data = _payload()
    if (
        data is None
        or not isinstance(data.get("from"), str)
        or not isinstance(data.get("body"), str)
    ):
        return jsonify(error="bad_request", detail='Expected JSON {"from", "body"}.'), 400
    action = preferences.apply_sms_keyword(data["from"].strip(), data["body"])
    return jsonify(ok=True, action=action)


def _str(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
