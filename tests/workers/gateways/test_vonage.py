"""Vonage's SMS API wire format, against a loopback server that speaks it."""

from __future__ import annotations

import requests

from commsvc import providers
from workers.gateways.base import Outcome, SmsMessage
from workers.gateways.vonage import VonageSmsGateway

CALLBACK = "http://127.0.0.1:5000/webhooks/sms/vonage"


def gateway(server) -> VonageSmsGateway:
    url = f"vonage+{server.base.replace('//', '//key1:secret1@')}"
    return VonageSmsGateway(providers.parse("sms", url)[0], requests.Session(), CALLBACK, 5)


def vonage(received):
    form = received.form()
    status, extra = {
        "447700900001": ("6", {"error-text": "Invalid message"}),
        "447700900002": ("1", {"error-text": "Throughput rate exceeded"}),
        "447700900003": ("5", {"error-text": "Internal error"}),
    }.get(form["to"], ("0", {"message-id": "0A00000012345678"}))
    return 200, {"message-count": "1", "messages": [{"to": form["to"], "status": status, **extra}]}


def test_message_carries_key_secret_reference_and_callback(loopback):
    server = loopback(vonage)
    result = gateway(server).send_one(SmsMessage(42, "+447911123456", "UNION", "Hi"))
    assert result.outcome is Outcome.ACCEPTED and result.provider_id == "0A00000012345678"
    request = server.received[0]
    assert request.path == "/sms/json"
    form = request.form()
    assert form["api_key"] == "key1" and form["api_secret"] == "secret1"
    assert form["to"] == "447911123456" and form["text"] == "Hi" and form["from"] == "UNION"
    assert form["client-ref"] == "42" and form["callback"] == CALLBACK


def test_status_in_the_body_decides_the_outcome(loopback):
    server = loopback(vonage)
    outcomes = [
        gateway(server).send_one(SmsMessage(n, f"+44770090000{n}", "UNION", "x")) for n in (1, 2, 3)
    ]
    assert [o.outcome for o in outcomes] == [
        Outcome.PERMANENT,
        Outcome.THROTTLED,
        Outcome.TEMPORARY,
    ]
    assert "Invalid message" in (outcomes[0].reason or "")
