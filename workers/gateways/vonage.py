"""Vonage's (Nexmo's) SMS API wire format: POST /sms/json with api_key and api_secret.

The HTTP status is 200 even for a refused message: the outcome is in the body,
`messages[0].status`: "0" accepted (with `message-id`), "1" throttled, "5" an
error on their side (temporary), anything else a refusal (permanent, with
`error-text`). `client-ref` carries the delivery id and `callback` the delivery
receipt URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from commsvc.providers import Provider
from workers.gateways.base import Outcome, Result, SmsMessage, by_http_status, unreachable

THROTTLED = "1"
TEMPORARY = {"5"}  # internal error


class VonageSmsGateway:
    name = "vonage"

    def __init__(
        self, provider: Provider, session: requests.Session, callback_url: str, timeout: float
    ) -> None:
        self.api_key = provider.username
        self.api_secret = provider.password
        base = provider.endpoint.rstrip("/")
        self.url = base if urlsplit(base).path.endswith("/json") else f"{base}/sms/json"
        self.session = session
        self.callback_url = callback_url
        self.timeout = (5.0, timeout)

    def send_one(self, message: SmsMessage) -> Result:
        form = {
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            "from": message.sender.lstrip("+"),
            "to": message.to.lstrip("+"),
            "text": message.body,
            "type": "unicode" if not message.body.isascii() else "text",
            "client-ref": str(message.delivery_id),
            "callback": self.callback_url,
        }
        try:
            response = self.session.post(self.url, data=form, timeout=self.timeout)
        except requests.RequestException as error:
            return unreachable(message.delivery_id, "Vonage", error)
        if response.status_code != 200:
            return by_http_status(
                message.delivery_id, response.status_code, response.text, "Vonage"
            )
        try:
            first = response.json()["messages"][0]
            status = str(first["status"])
        except (ValueError, KeyError, IndexError, TypeError):
            return Result(
                message.delivery_id,
                Outcome.TEMPORARY,
                reason=f"Vonage answered something unexpected: {response.text[:200]}",
            )
        if status == "0":
            return Result(
                message.delivery_id, Outcome.ACCEPTED, provider_id=str(first.get("message-id"))
            )
        reason = f"Vonage status {status}: {first.get('error-text', '')}"[:300]
        if status == THROTTLED:
            return Result(message.delivery_id, Outcome.THROTTLED, reason=reason)
        outcome = Outcome.TEMPORARY if status in TEMPORARY else Outcome.PERMANENT
        return Result(message.delivery_id, outcome, reason=reason)

    def close(self) -> None:
        """The session is shared by the worker process."""
