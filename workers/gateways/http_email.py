"""HTTP email APIs: a generic JSON one, and Postmark's wire format.

Both send one email per request, so each acceptance can be committed before the
next email leaves (a batch endpoint would put a whole batch at risk of a resend
after a crash). The email is built once, as MIME; the parts an API wants
(subject, text, HTML, headers) are read back from it.

Generic: `POST {url}` JSON `{"from", "to", "subject", "text", "html", "headers",
"reference"}` -> 2xx `{"id"}`. Postmark: `POST /email` with
`X-Postmark-Server-Token` (the password of the provider URL) -> 200
`{"ErrorCode": 0, "MessageID"}`; 422 with an ErrorCode is a refusal (e.g. 406,
an inactive recipient), permanent.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, cast
from urllib.parse import urlsplit

import requests

from commsvc.envelopes import EmailEnvelope
from commsvc.providers import Provider
from workers.gateways.base import Outcome, Result, by_http_status, unreachable

PASSED_HEADERS = ("Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post", "X-Commsvc-Delivery")


class GenericEmailApiGateway:
    name = "email_generic"

    def __init__(self, provider: Provider, session: requests.Session, timeout: float) -> None:
        self.url = provider.endpoint
        self.auth = (provider.username, provider.password) if provider.username else None
        self.session = session
        self.timeout = (5.0, timeout)

    def send_one(self, envelope: EmailEnvelope) -> Result:
        parts = email_parts(envelope)
        payload = {
            "from": envelope.sender,
            "to": envelope.recipient,
            "subject": parts["subject"],
            "text": parts["text"],
            "html": parts["html"],
            "headers": parts["headers"],
            "reference": str(envelope.delivery_id),
        }
        try:
            response = self.session.post(
                self.url, json=payload, auth=self.auth, timeout=self.timeout
            )
        except requests.RequestException as error:
            return unreachable(envelope.delivery_id, "email API", error)
        if not 200 <= response.status_code < 300:
            return by_http_status(
                envelope.delivery_id, response.status_code, response.text, "email API"
            )
        try:
            provider_id = str(response.json()["id"])
        except (ValueError, KeyError, TypeError):
            provider_id = None
        return Result(envelope.delivery_id, Outcome.ACCEPTED, provider_id=provider_id)

    def close(self) -> None:
        """The session is shared by the worker process."""


class PostmarkGateway:
    name = "postmark"

    def __init__(self, provider: Provider, session: requests.Session, timeout: float) -> None:
        base = provider.endpoint.rstrip("/")
        self.url = base if urlsplit(base).path.endswith("/email") else f"{base}/email"
        self.token = provider.password or provider.username
        self.session = session
        self.timeout = (5.0, timeout)

    def send_one(self, envelope: EmailEnvelope) -> Result:
        parts = email_parts(envelope)
        payload = {
            "From": envelope.sender,
            "To": envelope.recipient,
            "Subject": parts["subject"],
            "TextBody": parts["text"],
            "HtmlBody": parts["html"],
            "Headers": [{"Name": k, "Value": v} for k, v in parts["headers"].items()],
            "MessageStream": "broadcast",
            "Metadata": {"delivery": str(envelope.delivery_id)},
        }
        headers = {"Accept": "application/json", "X-Postmark-Server-Token": self.token}
        try:
            response = self.session.post(
                self.url, json=payload, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as error:
            return unreachable(envelope.delivery_id, "Postmark", error)
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        if response.status_code == 200 and body.get("ErrorCode") == 0:
            return Result(envelope.delivery_id, Outcome.ACCEPTED, provider_id=body.get("MessageID"))
        detail = (
            f"ErrorCode {body.get('ErrorCode')}: {body.get('Message')}" if body else response.text
        )
        if response.status_code == 200:  # an error code with a 200 is still a refusal
            return Result(envelope.delivery_id, Outcome.PERMANENT, reason=f"Postmark {detail}")
        return by_http_status(envelope.delivery_id, response.status_code, detail, "Postmark")

    def close(self) -> None:
        """The session is shared by the worker process."""


def email_parts(envelope: EmailEnvelope) -> dict[str, Any]:
    """Subject, text, HTML and the headers to pass on, read from the built MIME email."""
    message = cast(EmailMessage, message_from_bytes(envelope.data, policy=policy.default))
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return {
        "subject": str(message["Subject"] or ""),
        "text": text.get_content() if text is not None else "",
        "html": html.get_content() if html is not None else "",
        "headers": {name: str(message[name]) for name in PASSED_HEADERS if message[name]},
    }
