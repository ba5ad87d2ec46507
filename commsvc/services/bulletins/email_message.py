"""Building one member's email as bytes, with the headers the contract promises.

Each email is multipart/alternative (text and HTML), with a unique Message-ID,
List-Unsubscribe (URL and mailto) and List-Unsubscribe-Post (RFC 8058),
X-Commsvc-Delivery and Feedback-ID (Gmail's feedback loop). With a bounce domain the
envelope sender and the mailto are per-delivery VERP addresses there (`verp.py`);
with a DKIM signer the message is signed last, over its final header lines. Values
from templates never reach a header unfolded: subjects are single-line by construction
and every header value is stripped of CR and LF.

This is the hot path of a bulk send: the `email` package's object model costs about
a millisecond per message, more than rendering and sending together. So the fixed
parts (MIME structure, boundary, sender, mailto) are built once per sender as a
skeleton, and each message only fills in its own headers and quoted-printable bodies
(quoted_printable.py; the send path's come encoded already). The boundary starts with
"=_", which quoted-printable output can never contain, so it cannot collide with a body.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Mapping
from email.header import Header
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from typing import Any

from commsvc.envelopes import EmailEnvelope
from commsvc.services.bulletins.dkim_signature import DkimSigner, signer_for
from commsvc.services.bulletins.rendering import EncodedEmail, RenderedEmail
from commsvc.services.delivery.verp import Verp, verp_for

CRLF = b"\r\n"
# Longer ASCII subjects are folded as encoded words so no header line nears 998.
MAX_PLAIN_HEADER = 200


class EmailSkeleton:
    """The parts of an email shared by every member of a send, built once."""

    def __init__(
        self,
        sender: str,
        message_id_domain: str,
        verp: Verp | None = None,
        dkim: DkimSigner | None = None,
    ) -> None:
        self.sender = _header(sender)
        self.verp, self.dkim = verp, dkim
        self.domain = _header(message_id_domain) or "localhost"
        self.boundary = f"=_commsvc_{secrets.token_hex(12)}".encode()
        self._mailto = f"mailto:{_address_of(self.sender)}?subject=unsubscribe-"
        self._head = _line("MIME-Version", "1.0") + _line(
            "Content-Type", f'multipart/alternative; boundary="{self.boundary.decode()}"'
        )
        self._from = _line("From", _display_address(self.sender))
        part_headers = (
            b'Content-Type: text/%s; charset="utf-8"\r\n'
            b"Content-Transfer-Encoding: quoted-printable\r\n\r\n"
        )
        separator = CRLF + b"--" + self.boundary + CRLF
        self._text_open = separator + part_headers % b"plain"
        self._html_open = separator + part_headers % b"html"
        self._close = CRLF + b"--" + self.boundary + b"--" + CRLF
        self._date_second = -1
        self._date = b""

    def build(
        self,
        rendered: RenderedEmail | EncodedEmail,
        *,
        delivery_id: int,
        recipient: str,
        unsubscribe_url: str,
        feedback_id: str = "",
    ) -> EmailEnvelope:
        recipient = _header(recipient)
        if self.verp is None:
            return_path = None
            mailto = f"{self._mailto}{delivery_id}"
        else:
            return_path = self.verp.bounce_address(delivery_id)
            mailto = f"mailto:{self.verp.unsubscribe_address(delivery_id)}?subject=unsubscribe"
        headers = [
            self._head,
            self._from,
            _line("To", _display_address(recipient)),
            _subject_line(_header(rendered.subject)),
            self._date_line(),
            _line("Message-ID", self._message_id(delivery_id)),
            _line("List-Unsubscribe", f"<{_header(unsubscribe_url)}>, <{mailto}>"),
            _line("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            _line("X-Commsvc-Delivery", str(delivery_id)),
        ]
        if feedback_id:
            headers.append(_line("Feedback-ID", _header(feedback_id)))
        encoded = rendered.encoded() if isinstance(rendered, RenderedEmail) else rendered
        text, html = encoded.text, encoded.html
        body = b"".join((self._text_open, text, self._html_open, html, self._close))
        if self.dkim is not None:
            # The skeleton's MIME-Version and Content-Type are one chunk: sign them apart.
            lines = [*self._head.splitlines(keepends=True), *headers[1:]]
            # The body starts after the blank line that ends the header (_text_open's CRLF).
            headers.insert(0, self.dkim.signature_line(lines, body[len(CRLF) :]))
        data = b"".join(headers) + body
        return EmailEnvelope(delivery_id, self.sender, recipient, data, return_path)

    def _message_id(self, delivery_id: int) -> str:
        nonce = secrets.token_hex(8)
        if self.verp is not None:  # with a MAC: complaints may quote only the headers
            return self.verp.message_id(delivery_id, nonce, self.domain)
        return f"<d{delivery_id}.{nonce}@{self.domain}>"

    def _date_line(self) -> bytes:
        now = int(time.time())
        if now != self._date_second:  # formatdate is slow enough to matter per message
            self._date_second = now
            self._date = _line("Date", formatdate(now, usegmt=True))
        return self._date


def build_email(
    rendered: RenderedEmail | EncodedEmail,
    *,
    delivery_id: int,
    sender: str,
    recipient: str,
    unsubscribe_url: str,
    message_id_domain: str,
    feedback_id: str = "",
    verp: Verp | None = None,
    dkim: DkimSigner | None = None,
) -> EmailEnvelope:
    """One member's email, from the skeleton of this sender (cached per process)."""
    return skeleton_for(sender, message_id_domain, verp, dkim).build(
        rendered,
        delivery_id=delivery_id,
        recipient=recipient,
        unsubscribe_url=unsubscribe_url,
        feedback_id=feedback_id,
    )


@lru_cache(maxsize=16)
def skeleton_for(
    sender: str,
    message_id_domain: str,
    verp: Verp | None = None,
    dkim: DkimSigner | None = None,
) -> EmailSkeleton:
    return EmailSkeleton(sender, message_id_domain, verp, dkim)


def verp_and_dkim(config: Mapping[str, Any]) -> tuple[Verp | None, DkimSigner | None]:
    """The VERP and the DKIM signer a configuration asks for (each None when unset)."""
    verp = verp_for(config.get("COMMSVC_BOUNCE_DOMAIN"), config["SECRET_KEY"])
    selector, key_path = config.get("COMMSVC_DKIM_SELECTOR"), config.get("COMMSVC_DKIM_PRIVATE_KEY")
    dkim = None
    if selector and key_path:
        from_domain = _address_of(config["COMMSVC_EMAIL_FROM"]).rpartition("@")[2]
        dkim = signer_for(selector, from_domain or "localhost", key_path)
    return verp, dkim


def feedback_id(bulletin_id: int, partnership_id: int, topic_id: int) -> str:
    """Gmail's Feedback-ID: campaign, customer and mail type ids, then a stable sender id."""
    return f"b{bulletin_id}:p{partnership_id}:t{topic_id}:commsvc"


def _header(value: str) -> str:
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


def _line(name: str, value: str) -> bytes:
    # Non-ASCII reaches here only in addresses, sent raw under SMTPUTF8 (RFC 6532).
    return f"{name}: {value}\r\n".encode()


@lru_cache(maxsize=1024)
def _subject_line(subject: str) -> bytes:
    if subject.isascii() and len(subject) <= MAX_PLAIN_HEADER:
        return _line("Subject", subject)
    encoded = Header(subject, "utf-8", header_name="Subject").encode(linesep="\r\n")
    return _line("Subject", encoded)


def _display_address(value: str) -> str:
    """An address, with a non-ASCII display name as an encoded word."""
    if "<" not in value:  # a bare address (every member's): nothing to encode
        return value
    return _named_address(value)


@lru_cache(maxsize=64)
def _named_address(value: str) -> str:
    """RFC 5322 form: a name with specials (a comma, a dot) quoted, a non-ASCII one
    encoded; a value that is already so comes back unchanged."""
    name, address = parseaddr(value)
    if not name or not address:
        return value
    return formataddr((name, address), charset="utf-8")


def _address_of(value: str) -> str:
    return parseaddr(value)[1] or value
