"""Building one member's email as bytes, with the headers the contract promises.

Each email is multipart/alternative (text and HTML), with a unique Message-ID,
List-Unsubscribe (URL and mailto) and List-Unsubscribe-Post (RFC 8058), and
X-Commsvc-Delivery. Values from templates never reach a header unfolded: subjects
are single-line by construction and every header value is stripped of CR and LF.
"""

from __future__ import annotations

from dataclasses import dataclass
from email.charset import QP, Charset
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import formatdate, make_msgid

from commsvc.services.rendering import RenderedEmail

# SMTP wants CRLF line ends; smtplib sends bytes as they are.
_SMTP_POLICY = compat32.clone(linesep="\r\n")
_utf8_qp = Charset("utf-8")
_utf8_qp.body_encoding = QP


@dataclass(frozen=True)
class EmailEnvelope:
    """What a gateway needs to send one email."""

    delivery_id: int
    sender: str
    recipient: str
    data: bytes


def build_email(
    rendered: RenderedEmail,
    *,
    delivery_id: int,
    sender: str,
    recipient: str,
    unsubscribe_url: str,
    message_id_domain: str,
) -> EmailEnvelope:
    message = MIMEMultipart("alternative")
    message["From"] = _header(sender)
    message["To"] = _header(recipient)
    message["Subject"] = _header(rendered.subject)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(idstring=f"d{delivery_id}", domain=message_id_domain)
    unsubscribe_mailto = f"mailto:{sender}?subject=unsubscribe-{delivery_id}"
    message["List-Unsubscribe"] = _header(f"<{unsubscribe_url}>, <{unsubscribe_mailto}>")
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["X-Commsvc-Delivery"] = str(delivery_id)
    message.attach(MIMEText(rendered.text, "plain", _utf8_qp))  # type: ignore[arg-type]
    message.attach(MIMEText(rendered.html, "html", _utf8_qp))  # type: ignore[arg-type]
    return EmailEnvelope(
        delivery_id=delivery_id,
        sender=sender,
        recipient=recipient,
        data=message.as_bytes(policy=_SMTP_POLICY),
    )


def _header(value: str) -> str:
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())
