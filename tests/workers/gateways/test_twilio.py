"""Twilio's wire format, against a loopback server that speaks it."""

from __future__ import annotations

import base64

import requests

from commsvc import providers
from workers.gateways.base import Outcome, SmsMessage
from workers.gateways.twilio import TwilioSmsGateway

CALLBACK = "http://127.0.0.1:5000/webhooks/sms/twilio"


def gateway(server) -> TwilioSmsGateway:
    provider = providers.parse("sms", f"twilio+{server.base.replace('//', '//AC123:tok3n@')}")[0]
    return TwilioSmsGateway(provider, requests.Session(), CALLBACK, timeout=5)


def twilio(received):
    to = received.form()["To"]
    if to == "+447700900001":
        return 400, {"code": 21211, "message": "The 'To' number is not valid.", "status": 400}
    if to == "+447700900002":
        return 429, {"code": 20429, "message": "Too Many Requests", "status": 429}
    if to == "+447700900003":
        return 503, {"message": "Service unavailable"}
    return 201, {"sid": "SM" + "a" * 32, "status": "queued"}


def test_message_is_a_form_post_with_basic_auth_and_status_callback(loopback):
    server = loopback(twilio)
    result = gateway(server).send_one(SmsMessage(7, "+447911123456", "UNION", "Hi Alex"))
    assert result.outcome is Outcome.ACCEPTED and result.provider_id == "SM" + "a" * 32
    request = server.received[0]
    assert request.path == "/2010-04-01/Accounts/AC123/Messages.json"
    assert request.headers["Authorization"] == "Basic " + base64.b64encode(b"AC123:tok3n").decode()
    assert request.form() == {
        "To": "+447911123456",
        "From": "UNION",
        "Body": "Hi Alex",
        "StatusCallback": CALLBACK,
    }


def test_invalid_number_is_permanent_with_twilio_reason(loopback):
    result = gateway(loopback(twilio)).send_one(SmsMessage(1, "+447700900001", "UNION", "x"))
    assert result.outcome is Outcome.PERMANENT
    assert "21211" in (result.reason or "")


def test_too_many_requests_is_throttling_and_503_is_temporary(loopback):
    server = loopback(twilio)
    assert gateway(server).send_one(SmsMessage(2, "+447700900002", "U", "x")).outcome is (
        Outcome.THROTTLED
    )
    assert gateway(server).send_one(SmsMessage(3, "+447700900003", "U", "x")).outcome is (
        Outcome.TEMPORARY
    )
