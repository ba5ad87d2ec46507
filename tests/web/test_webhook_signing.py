"""Signed callbacks that cannot be replayed (issue 12, item 14b) and Twilio callbacks
verified as Twilio's own SDK verifies them (item 19).

commsvc's protocol: with X-Timestamp the signature covers `<timestamp>.<body>` and is
good for five minutes; an inbound reply is applied once, so a START replayed after the
member's STOP texts nobody. Twilio: signed by the `twilio` package's RequestValidator,
over the URL with or without its default port, with any configured account's token,
or a SharedKey (HMAC-SHA256)."""

from __future__ import annotations

import json
import time

import pytest
from twilio.request_validator import RequestValidator

from commsvc.extensions import db
from commsvc.models import Delivery, Member
from commsvc.web.webhooks import sign
from tests import factories

SECRET = "test-webhook-secret"
MOBILE = "+447911777001"


def inbound(via, word: str, timestamp: int | None = None, signed_at: int | None = None):
    body = json.dumps({"from": MOBILE, "body": word}).encode()
    stamp = None if signed_at is None and timestamp is None else str(signed_at or timestamp)
    headers = {"Content-Type": "application/json", "X-Signature": sign(SECRET, body, stamp)}
    if timestamp is not None:
        headers["X-Timestamp"] = str(timestamp)
    return via.post("/webhooks/sms/inbound", body=body, headers=headers)


def sms_on() -> bool:
    db.session.expire_all()
    return db.session.query(Member).one().sms_enabled


@pytest.fixture
def member(app):
    factories.topics()
    factories.import_rows([factories.member_row(mobile="07911 777001")])


def test_a_timestamped_start_replayed_after_stop_changes_nothing(via, member):
    now = int(time.time())
    stop = inbound(via, "STOP", now - 60)
    assert stop.status == 200 and stop.json()["action"] == "stop"
    start = inbound(via, "START", now - 30)
    assert start.status == 200 and sms_on() is True
    assert inbound(via, "STOP", now).json()["action"] == "stop"
    replayed = inbound(via, "START", now - 30)
    assert replayed.status == 409 and replayed.json()["error"] == "replayed"
    assert sms_on() is False


@pytest.mark.parametrize("age", [3600, -3600])
def test_a_timestamp_outside_five_minutes_is_a_401(via, member, age):
    answer = inbound(via, "STOP", int(time.time()) - age)
    assert answer.status == 401 and "X-Timestamp" in answer.json()["detail"]
    assert sms_on() is True


def test_a_timestamp_the_signature_does_not_cover_is_a_401(via, member):
    body = json.dumps({"from": MOBILE, "body": "STOP"}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Signature": sign(SECRET, body),  # the body alone: the timestamp could be changed
        "X-Timestamp": str(int(time.time())),
    }
    assert via.post("/webhooks/sms/inbound", body=body, headers=headers).status == 401
    assert sms_on() is True


def test_without_a_timestamp_a_start_counts_once_and_every_stop_counts(via, member):
    assert inbound(via, "STOP").json()["action"] == "stop"
    assert inbound(via, "START").json()["action"] == "start"
    assert inbound(via, "STOP").json()["action"] == "stop"  # a member's second STOP
    assert sms_on() is False
    replayed = inbound(via, "START")
    assert replayed.status == 409 and sms_on() is False


def test_receipts_take_the_timestamped_signature_too(via, app):
    bulletin = factories.sending_bulletin(1, channels="sms")
    delivery = db.session.get(Delivery, bulletin.deliveries_by_channel["sms"][0])
    delivery.status, delivery.provider_id = "sent", "prov-9"
    db.session.commit()
    body = json.dumps({"id": "prov-9", "status": "delivered"}).encode()
    now = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Timestamp": now}
    stale = {**headers, "X-Timestamp": "1", "X-Signature": sign(SECRET, body, "1")}
    assert via.post("/webhooks/sms/status", body=body, headers=stale).status == 401
    fresh = {**headers, "X-Signature": sign(SECRET, body, now)}
    answer = via.post("/webhooks/sms/status", body=body, headers=fresh)
    assert answer.status == 200 and answer.json()["changed"] is True


FIRST, SECOND = "first-account-token", "second-account-token"
PARAMS = {"MessageSid": "SM0001", "MessageStatus": "delivered", "AccountSid": "AC2"}


@pytest.fixture
def twilio(app):
    app.config["COMMSVC_SMS_URL"] = (
        f"twilio+https://AC1:{FIRST}@api.twilio.com,twilio+https://AC2:{SECOND}@api.twilio.com"
    )
    app.config["COMMSVC_PUBLIC_URL"] = "https://hooks.union.example"
    bulletin = factories.sending_bulletin(1, channels="sms")
    delivery = db.session.get(Delivery, bulletin.deliveries_by_channel["sms"][0])
    delivery.status, delivery.provider_id = "sent", "SM0001"
    db.session.commit()
    return delivery


def status_of(delivery) -> str:
    db.session.expire_all()
    return db.session.get(Delivery, delivery.id).status


def post_twilio(client, signature: str, settings: str | None = None):
    headers = {"X-Twilio-Signature": signature}
    if settings is not None:
        headers["X-Twilio-Webhooks-Signature-Settings"] = settings
    return client.post("/webhooks/sms/twilio", data=PARAMS, headers=headers)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.union.example/webhooks/sms/twilio",
        "https://hooks.union.example:443/webhooks/sms/twilio",
    ],
)
@pytest.mark.parametrize("token", [FIRST, SECOND])
def test_a_callback_the_sdk_signs_with_any_account_and_either_url_is_accepted(
    client, twilio, url, token
):
    signature = RequestValidator(token).compute_signature(url, PARAMS)
    assert RequestValidator(token).validate(url, PARAMS, signature)
    answer = post_twilio(client, signature)
    assert answer.status_code == 200 and answer.get_json()["changed"] is True
    assert status_of(twilio) == "delivered"


@pytest.mark.parametrize("secret", [SECRET, SECOND])
def test_a_shared_key_callback_signed_with_hmac_sha256_is_accepted(client, twilio, secret):
    url = "https://hooks.union.example/webhooks/sms/twilio"
    signature = RequestValidator(secret).compute_signature(url, PARAMS, "HMAC_SHA256")
    settings = "key=webhooks_sharedkey_1,algorithm=HMAC_SHA256"
    assert post_twilio(client, signature, settings).status_code == 200
    assert status_of(twilio) == "delivered"


@pytest.mark.parametrize(
    ("secret", "algorithm", "settings"),
    [
        ("someone-else", "HMAC_SHA1", None),
        (SECRET, "HMAC_SHA1", None),  # the webhook secret is only a SharedKey's
        (SECOND, "HMAC_SHA256", None),  # SHA-256 is announced by the settings header
        (SECOND, "HMAC_SHA1", "key=k,algorithm=HMAC_SHA256"),
        (SECOND, "HMAC_SHA1", "key=k,algorithm=HMAC_SHA512"),
    ],
)
def test_a_callback_signed_otherwise_is_a_401_and_changes_nothing(
    client, twilio, secret, algorithm, settings
):
    url = "https://hooks.union.example/webhooks/sms/twilio"
    signature = RequestValidator(secret).compute_signature(url, PARAMS, algorithm)
    assert post_twilio(client, signature, settings).status_code == 401
    assert status_of(twilio) == "sent"
