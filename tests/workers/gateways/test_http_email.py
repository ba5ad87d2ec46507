"""HTTP email APIs (generic JSON and Postmark), against loopback servers speaking them."""

from __future__ import annotations

import requests

from commsvc import providers
from commsvc.envelopes import EmailEnvelope
from commsvc.services.bulletins.email_message import build_email
from commsvc.services.bulletins.rendering import RenderedEmail
from workers.gateways.base import Outcome
from workers.gateways.http_email import GenericEmailApiGateway, PostmarkGateway


def envelope(delivery_id: int = 5, to: str = "alex@example.org") -> EmailEnvelope:
    return build_email(
        RenderedEmail(subject="Pay offer", text="Dear Alex", html="<p>Dear Alex</p>"),
        delivery_id=delivery_id,
        sender="bulletins@union.example",
        recipient=to,
        unsubscribe_url="http://127.0.0.1:5000/u/abc",
        message_id_domain="union.example",
    )


def test_generic_api_gets_the_parts_and_the_contract_headers(loopback):
    server = loopback(lambda r: (202, {"id": "e-1"}))
    provider = providers.parse("email", server.base + "/send")[0]
    result = GenericEmailApiGateway(provider, requests.Session(), 5).send_one(envelope())
    assert result.outcome is Outcome.ACCEPTED and result.provider_id == "e-1"
    sent = server.received[0].json()
    assert sent["to"] == "alex@example.org" and sent["subject"] == "Pay offer"
    assert sent["text"].strip() == "Dear Alex" and "<p>Dear Alex</p>" in sent["html"]
    assert sent["reference"] == "5"
    assert sent["headers"]["X-Commsvc-Delivery"] == "5"
    assert sent["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def postmark(received):
    if received.headers.get("X-Postmark-Server-Token") != "server-token":
        return 401, {"ErrorCode": 10, "Message": "Bad or missing Server API token."}
    to = received.json()["To"]
    if to == "gone@example.org":
        return 422, {"ErrorCode": 406, "Message": "You tried to send to an inactive recipient."}
    if to == "busy@example.org":
        return 429, {"ErrorCode": 429, "Message": "Rate limit exceeded"}
    return 200, {"To": to, "ErrorCode": 0, "Message": "OK", "MessageID": "pm-1"}


def test_postmark_sends_one_email_per_request_with_its_token(loopback):
    server = loopback(postmark)
    url = f"postmark+{server.base.replace('//', '//:server-token@')}"
    gateway = PostmarkGateway(providers.parse("email", url)[0], requests.Session(), 5)
    accepted = gateway.send_one(envelope())
    gone = gateway.send_one(envelope(6, "gone@example.org"))
    busy = gateway.send_one(envelope(7, "busy@example.org"))
    assert accepted.outcome is Outcome.ACCEPTED and accepted.provider_id == "pm-1"
    assert server.received[0].path == "/email"
    body = server.received[0].json()
    assert body["Subject"] == "Pay offer" and body["MessageStream"] == "broadcast"
    assert {"Name": "X-Commsvc-Delivery", "Value": "5"} in body["Headers"]
    assert gone.outcome is Outcome.PERMANENT and "inactive recipient" in (gone.reason or "")
    assert busy.outcome is Outcome.THROTTLED


def test_postmark_with_a_wrong_token_is_temporary_not_the_members_fault(loopback):
    server = loopback(postmark)
    url = f"postmark+{server.base.replace('//', '//:wrong@')}"
    gateway = PostmarkGateway(providers.parse("email", url)[0], requests.Session(), 5)
    assert gateway.send_one(envelope()).outcome is Outcome.TEMPORARY
