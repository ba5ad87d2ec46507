"""What the domain hands a gateway: plain values, no database, no Flask.

The domain builds an envelope (`services/bulletins/email_message.py`); the gateways in
`workers/gateways/` send it. It lives here, outside both, so the gateways need nothing
of the domain and `commsvc/` still never imports `workers/`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmailEnvelope:
    """What a gateway needs to send one email."""

    delivery_id: int
    sender: str
    recipient: str
    data: bytes
    # The SMTP envelope sender (MAIL FROM) when it is not `sender`: a VERP address.
    return_path: str | None = None

    @property
    def mail_from(self) -> str:
        return self.return_path or self.sender
