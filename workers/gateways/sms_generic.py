"""The generic JSON SMS gateway of DESIGN.md, spoken with one pooled requests.Session.

2xx is accepted (with the provider's id), 429 throttled, 5xx temporary, other 4xx
permanent; a timeout or a refused connection is temporary.
"""

from __future__ import annotations

import requests

from workers.gateways.base import Outcome, Result, SmsMessage, by_http_status, unreachable


class GenericSmsGateway:
    name = "sms_generic"

    def __init__(self, url: str, session: requests.Session, timeout: float = 15.0) -> None:
        self.url = url
        self.session = session
        self.timeout = (5.0, timeout)  # connect, read

    def send_one(self, message: SmsMessage) -> Result:
        payload = {
            "to": message.to,
            "from": message.sender,
            "body": message.body,
            "reference": str(message.delivery_id),
        }
        try:
            response = self.session.post(self.url, json=payload, timeout=self.timeout)
        except requests.RequestException as error:
            return unreachable(message.delivery_id, "SMS gateway", error)
        if not 200 <= response.status_code < 300:
            return by_http_status(
                message.delivery_id, response.status_code, response.text, "SMS gateway"
            )
        try:
            provider_id = str(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            provider_id = None
        return Result(message.delivery_id, Outcome.ACCEPTED, provider_id=provider_id)

    def close(self) -> None:
        """The session is shared by the worker process and outlives a batch."""
