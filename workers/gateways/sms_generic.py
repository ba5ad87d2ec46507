"""The generic JSON SMS gateway of DESIGN.md, spoken with one pooled requests.Session.

2xx is accepted (with the provider's id), 429 and 5xx temporary, other 4xx permanent;
a timeout or a refused connection is temporary.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import requests

from workers.gateways.base import Outcome, Result, SmsMessage

TIMEOUT = (5, 15)  # connect, read


class GenericSmsGateway:
    name = "sms_generic"

    def __init__(self, url: str, session: requests.Session) -> None:
        self.url = url
        self.session = session

    def send(self, messages: Iterable[SmsMessage]) -> Iterator[Result]:
        for message in messages:
            yield self._send_one(message)

    def close(self) -> None:
        """The session is shared by the worker process and outlives a batch."""

    def _send_one(self, message: SmsMessage) -> Result:
        payload = {
            "to": message.to,
            "from": message.sender,
            "body": message.body,
            "reference": str(message.delivery_id),
        }
        try:
            response = self.session.post(self.url, json=payload, timeout=TIMEOUT)
        except requests.RequestException as error:
            return Result(
                message.delivery_id,
                Outcome.TEMPORARY,
                reason=f"SMS gateway unreachable: {type(error).__name__}",
            )
        if 200 <= response.status_code < 300:
            try:
                provider_id = str(response.json()["id"])
            except (ValueError, KeyError, TypeError):
                provider_id = None
            return Result(message.delivery_id, Outcome.ACCEPTED, provider_id=provider_id)
        reason = f"SMS gateway answered {response.status_code}: {response.text[:200]}"
        temporary = response.status_code == 429 or response.status_code >= 500
        return Result(
            message.delivery_id,
            Outcome.TEMPORARY if temporary else Outcome.PERMANENT,
            reason=reason,
        )
