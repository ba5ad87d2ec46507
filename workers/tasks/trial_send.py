"""An organiser's test send: one rendered message to their own address, not a delivery."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from flask import current_app

from commsvc.queueing import TaskNames
from commsvc.services.bulletins import rendering
from commsvc.services.bulletins.email_message import build_email, verp_and_dkim
from commsvc.services.bulletins.rendering import RenderedEmail
from workers.gateways import email_gateway, sms_gateway
from workers.gateways.base import SmsMessage

TEST_DELIVERY_ID = 0  # no delivery row: nothing is recorded, nothing is counted


@shared_task(name=TaskNames.SEND_TEST_MESSAGE, acks_late=True)
def send_test_message(channel: str, address: str, message: dict[str, Any]) -> str:
    config = current_app.config
    if channel == "email":
        _verp, dkim = verp_and_dkim(config)  # a test send is no delivery: nothing to bounce to
        envelope = build_email(
            RenderedEmail(message["subject"], message["text"], message["html"]),
            delivery_id=TEST_DELIVERY_ID,
            sender=message.get("sender") or config["COMMSVC_EMAIL_FROM"],
            recipient=address,
            unsubscribe_url=message["unsubscribe_url"],
            message_id_domain=message["domain"],
            dkim=dkim,
        )
        gateway: Any = email_gateway()
        outgoing: Any = envelope
    else:
        gateway = sms_gateway()
        outgoing = SmsMessage(
            TEST_DELIVERY_ID, address, rendering.sms_sender(config), message["body"]
        )
    try:
        (result,) = list(gateway.send([outgoing]))
    finally:
        gateway.close()
    return result.outcome.value
