"""Receipts in providers' own formats: Twilio, Vonage, Postmark; each verified its way."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from commsvc.extensions import db
from commsvc.models import Delivery, Member, Suppression
from commsvc.services.members import suppression
from tests import factories

SECRET = "test-webhook-secret"
TWILIO_TOKEN = "twilio-auth-token"
TWILIO_URL = "http://127.0.0.1:5000/webhooks/sms/twilio"


def sent(channel: str, provider_id: str) -> Delivery:
    bulletin = factories.sending_bulletin(1, channels=channel)
    delivery = db.session.get(Delivery, bulletin.deliveries_by_channel[channel][0])
    delivery.status, delivery.provider_id = "sent", provider_id
    db.session.commit()
    return delivery


def status_of(delivery: Delivery) -> str:
    db.session.expire_all()
    return db.session.get(Delivery, delivery.id).status


def twilio_signed(params: dict[str, str], token: str = TWILIO_TOKEN) -> str:
    """As Twilio documents it: the URL, then each name and value sorted by name."""
    data = TWILIO_URL + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


@pytest.fixture
def twilio_configured(app):
    app.config["COMMSVC_SMS_URL"] = f"twilio+http://AC123:{TWILIO_TOKEN}@127.0.0.1:9"


def test_twilio_callback_with_valid_signature_marks_delivered(client, twilio_configured):
    delivery = sent("sms", "SM0001")
    params = {"MessageSid": "SM0001", "MessageStatus": "delivered", "AccountSid": "AC123"}
    response = client.post(
        "/webhooks/sms/twilio", data=params, headers={"X-Twilio-Signature": twilio_signed(params)}
    )
    assert response.status_code == 200 and response.get_json()["changed"] is True
    assert status_of(delivery) == "delivered"


def test_twilio_undelivered_is_a_permanent_failure_with_its_error_code(client, twilio_configured):
    delivery = sent("sms", "SM0002")
    params = {"MessageSid": "SM0002", "MessageStatus": "undelivered", "ErrorCode": "30003"}
    client.post(
        "/webhooks/sms/twilio", data=params, headers={"X-Twilio-Signature": twilio_signed(params)}
    )
    db.session.expire_all()
    row = db.session.get(Delivery, delivery.id)
    assert row.status == "permanent_failure" and "30003" in row.last_error


@pytest.mark.parametrize("token", ["wrong-token", None])
def test_twilio_callback_with_a_bad_signature_gets_401(client, twilio_configured, token):
    delivery = sent("sms", "SM0003")
    params = {"MessageSid": "SM0003", "MessageStatus": "failed"}
    headers = {"X-Twilio-Signature": twilio_signed(params, token)} if token else {}
    response = client.post("/webhooks/sms/twilio", data=params, headers=headers)
    assert response.status_code == 401
    assert status_of(delivery) == "sent"


def test_twilio_callback_without_a_twilio_provider_is_refused(client, app):
    params = {"MessageSid": "SM0004", "MessageStatus": "delivered"}
    response = client.post(
        "/webhooks/sms/twilio", data=params, headers={"X-Twilio-Signature": twilio_signed(params)}
    )
    assert response.status_code == 401


def vonage_signed(params: dict[str, str]) -> dict[str, str]:
    data = "".join(f"&{k}={params[k]}" for k in sorted(params))
    return {**params, "sig": hmac.new(SECRET.encode(), data.encode(), hashlib.sha256).hexdigest()}


def test_vonage_receipt_signed_as_form_or_json_marks_delivered_and_replay_changes_nothing(client):
    delivery = sent("sms", "0A0000001")
    params = vonage_signed(
        {"messageId": "0A0000001", "status": "delivered", "err-code": "0", "timestamp": "1"}
    )
    first = client.post("/webhooks/sms/vonage", data=params)
    replay = client.post("/webhooks/sms/vonage", json=params)
    assert first.get_json()["changed"] is True and replay.get_json()["changed"] is False
    assert status_of(delivery) == "delivered"


def test_vonage_rejected_is_a_failure_and_unsigned_receipts_are_refused(client):
    delivery = sent("sms", "0A0000002")
    unsigned = {"messageId": "0A0000002", "status": "rejected", "err-code": "6"}
    assert client.post("/webhooks/sms/vonage", data=unsigned).status_code == 401
    assert status_of(delivery) == "sent"
    client.get("/webhooks/sms/vonage", query_string=vonage_signed(unsigned))
    assert status_of(delivery) == "permanent_failure"


def postmark(client, payload, password=SECRET):
    auth = base64.b64encode(f"postmark:{password}".encode()).decode()
    return client.post(
        "/webhooks/email/postmark", json=payload, headers={"Authorization": f"Basic {auth}"}
    )


def test_postmark_hard_bounce_marks_bounced_and_suppresses_the_address(client):
    delivery = sent("email", "pm-0001")
    email = db.session.get(Member, delivery.member_id).email
    response = postmark(
        client,
        {
            "RecordType": "Bounce",
            "Type": "HardBounce",
            "TypeCode": 1,
            "MessageID": "pm-0001",
            "Email": email,
            "Description": "The server was unable to deliver your message",
        },
    )
    assert response.status_code == 200 and response.get_json()["changed"] is True
    assert status_of(delivery) == "bounced"
    assert suppression.is_suppressed("email", email)


def test_postmark_soft_bounce_and_opens_change_nothing(client):
    delivery = sent("email", "pm-0002")
    postmark(client, {"RecordType": "Bounce", "Type": "SoftBounce", "MessageID": "pm-0002"})
    postmark(client, {"RecordType": "Open", "MessageID": "pm-0002"})
    assert status_of(delivery) == "sent"
    assert db.session.query(Suppression).count() == 0


def test_postmark_complaint_suppresses_and_a_wrong_password_is_refused(client):
    delivery = sent("email", "pm-0003")
    email = db.session.get(Member, delivery.member_id).email
    complaint = {"RecordType": "SpamComplaint", "Type": "SpamComplaint", "MessageID": "pm-0003"}
    assert postmark(client, complaint, password="guess").status_code == 401
    assert not suppression.is_suppressed("email", email)
    assert postmark(client, complaint).get_json()["changed"] is True
    assert suppression.is_suppressed("email", email)
    assert postmark(client, complaint).get_json()["changed"] is False  # a replay
