"""Receipts in providers' own formats: Twilio status callbacks, Vonage delivery
receipts, Postmark bounce and complaint webhooks. Each is verified the provider's
way (see `signatures`) and then applied like commsvc's own receipts."""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify, request

from commsvc import providers
from commsvc.services.delivery import receipts
from commsvc.web.webhooks import bad_request, bp, unauthorized
from commsvc.web.webhooks.signatures import (
    is_basic_auth_password,
    is_twilio_signed,
    is_vonage_signed,
    twilio_algorithm,
)

POSTMARK_HARD_BOUNCES = {"HardBounce", "BadEmailAddress", "ManuallyDeactivated"}


@bp.post("/sms/twilio")
def twilio_status() -> Any:
    config = current_app.config
    accounts = providers.parse("sms", config["COMMSVC_SMS_URL"])
    secrets = [p.password for p in accounts if p.kind == "twilio"]
    settings = request.headers.get("X-Twilio-Webhooks-Signature-Settings", "")
    if settings and secrets:
        secrets.append(config["COMMSVC_WEBHOOK_SECRET"])  # a SharedKey's secret
    query = f"?{request.query_string.decode()}" if request.query_string else ""
    urls = [config["COMMSVC_PUBLIC_URL"] + request.path + query, request.url]
    given = request.headers.get("X-Twilio-Signature", "")
    pairs = list(request.form.items(multi=True))
    if not is_twilio_signed(secrets, urls, pairs, given, twilio_algorithm(settings)):
        return unauthorized("Missing or wrong X-Twilio-Signature.")
    params = {k: v for k, v in request.form.items()}
    if not params.get("MessageSid") or not params.get("MessageStatus"):
        return bad_request("Expected form fields MessageSid and MessageStatus.")
    error = params.get("ErrorCode")
    moved = receipts.apply_sms_receipt(
        params["MessageSid"],
        None,
        params["MessageStatus"],
        f"Twilio error {error}" if error else None,
        provider_kind="twilio",
    )
    return jsonify(ok=True, changed=moved)


@bp.route("/sms/vonage", methods=["GET", "POST"])
def vonage_receipt() -> Any:
    params: dict[str, str] = {k: v for k, v in request.values.items()}
    if request.is_json:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return bad_request("Expected a JSON object (or form fields) with sig.")
        params = {k: str(v) for k, v in data.items() if isinstance(v, str | int | float)}
    if not is_vonage_signed(current_app.config["COMMSVC_WEBHOOK_SECRET"], params):
        return unauthorized("Missing or wrong sig.")
    if not params.get("messageId") or not params.get("status"):
        return bad_request("Expected messageId and status.")
    error = params.get("err-code")
    moved = receipts.apply_sms_receipt(
        params["messageId"],
        params.get("client-ref"),
        params["status"],
        f"Vonage error {error}" if error and error != "0" else None,
        provider_kind="vonage",
    )
    return jsonify(ok=True, changed=moved)


@bp.post("/email/postmark")
def postmark_event() -> Any:
    auth = request.authorization
    password = auth.password if auth else None
    if not is_basic_auth_password(current_app.config["COMMSVC_WEBHOOK_SECRET"], password):
        return unauthorized("Missing or wrong basic auth.")
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("RecordType"), str):
        return bad_request('Expected a Postmark webhook: JSON with "RecordType".')
    kind = data["RecordType"]
    event = {"Bounce": "bounce", "SpamComplaint": "complaint", "Delivery": "delivered"}.get(kind)
    if event is None:
        return jsonify(ok=True, changed=False)  # opens, clicks: not ours to track
    metadata = data.get("Metadata")
    reference = metadata.get("delivery") if isinstance(metadata, dict) else None
    changed = receipts.apply_email_event(
        str(data.get("MessageID") or "") or None,
        str(reference) if reference is not None else None,
        event,
        hard=data.get("Type") in POSTMARK_HARD_BOUNCES,
        reason=str(data.get("Description") or data.get("Type") or "")[:500] or None,
        provider_kind="postmark",
    )
    return jsonify(ok=True, changed=changed)
