"""Twilio's wire format: a form POST to /2010-04-01/Accounts/{sid}/Messages.json.

Basic auth with the account SID and auth token (the user and password of the
provider URL); each message names a StatusCallback, where Twilio reports delivery,
signed with X-Twilio-Signature (checked by the webhook). 201 carries the message
SID; 429 (or error code 20429) is throttling; 400 with an error code is a refusal
of this message (an invalid or unsubscribed number) and is permanent.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from commsvc.providers import Provider
from workers.gateways.base import Outcome, Result, SmsMessage, by_http_status, unreachable

API_VERSION = "2010-04-01"
THROTTLING_CODES = {20429, 14107}  # too many requests; outbound rate limit


class TwilioSmsGateway:
    name = "twilio"

    def __init__(
        self, provider: Provider, session: requests.Session, callback_url: str, timeout: float
    ) -> None:
        self.account_sid = provider.username
        self.auth = (provider.username, provider.password)
        base = provider.endpoint.rstrip("/")
        if f"/{API_VERSION}/" not in urlsplit(base).path + "/":
            base = f"{base}/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        self.url = base
        self.session = session
        self.callback_url = callback_url
        self.timeout = (5.0, timeout)

    def send_one(self, message: SmsMessage) -> Result:
        form = {
            "To": message.to,
            "From": message.sender,
            "Body": message.body,
            "StatusCallback": self.callback_url,
        }
        try:
            response = self.session.post(self.url, data=form, auth=self.auth, timeout=self.timeout)
        except requests.RequestException as error:
            return unreachable(message.delivery_id, "Twilio", error)
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if 200 <= response.status_code < 300 and body.get("sid"):
            return Result(message.delivery_id, Outcome.ACCEPTED, provider_id=str(body["sid"]))
        code = body.get("code")
        if code in THROTTLING_CODES:
            return Result(message.delivery_id, Outcome.THROTTLED, reason=f"Twilio {code}")
        detail = f"{code}: {body.get('message')}" if code else response.text
        return by_http_status(message.delivery_id, response.status_code, detail, "Twilio")

    def close(self) -> None:
        """The session is shared by the worker process."""
