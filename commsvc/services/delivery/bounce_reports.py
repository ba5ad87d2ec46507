"""Reading a message that came back to the bounce domain: what kind of report it is.

Pure parsing, no database: `bounces.py` acts on what this finds. In order:
- an ARF feedback report (RFC 5965, `multipart/report; report-type=feedback-report`):
  a complaint; the original message's headers and `Original-Mail-From` say which
  delivery it was about, as the recipient may be redacted (RFC 6590);
- a DSN (RFC 3464, `report-type=delivery-status`): `Status: 5.x.x` hard, `4.x.x` soft;
- an auto-reply (`Auto-Submitted` other than `no`, out-of-office headers and subjects):
  nothing to do;
- anything else goes to `flufl.bounce`, which knows the non-standard bounce formats of
  many mail servers; if it finds no failed address either, the message is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from enum import StrEnum

from flufl.bounce import all_failures

_STATUS = re.compile(r"^\s*([245])\.\d{1,3}\.\d{1,3}")
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?reply|autoreply|"
    r"away from (the )?office|on (annual )?leave)",
    re.IGNORECASE,
)
_AUTO_REPLY_HEADERS = ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress")


class ReportKind(StrEnum):
    HARD_BOUNCE = "hard_bounce"
    SOFT_BOUNCE = "soft_bounce"
    COMPLAINT = "complaint"
    AUTO_REPLY = "auto_reply"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Report:
    kind: ReportKind
    reason: str = ""
    # Where the original message may say which delivery it was (complaints): the
    # addresses and Message-IDs to check, and the X-Commsvc-Delivery it carried.
    original_senders: list[str] = field(default_factory=list)
    original_message_ids: list[str] = field(default_factory=list)
    original_delivery: str = ""


def read_report(raw: bytes) -> Report:
    message = message_from_bytes(raw)
    param = message.get_param("report-type")
    report_type = param.lower() if isinstance(param, str) else ""
    if message.get_content_type() == "multipart/report" and report_type == "feedback-report":
        return _complaint(message)
    if message.get_content_type() == "multipart/report" and report_type == "delivery-status":
        dsn = _dsn(message)
        if dsn is not None:
            return dsn
    if is_auto_reply(message):
        return Report(ReportKind.AUTO_REPLY)
    temporary, permanent = all_failures(message)
    if permanent:
        return Report(ReportKind.HARD_BOUNCE, "non-standard bounce: " + _addresses(permanent))
    if temporary:
        return Report(ReportKind.SOFT_BOUNCE, "non-standard bounce: " + _addresses(temporary))
    return Report(ReportKind.UNKNOWN)


def is_auto_reply(message: Message) -> bool:
    """RFC 3834's Auto-Submitted, the headers Exchange and others add, or the subject."""
    submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    if submitted and submitted != "no":
        return True
    if any(message.get(name) for name in _AUTO_REPLY_HEADERS):
        return True
    if str(message.get("Precedence", "")).strip().lower() == "auto_reply":
        return True
    return bool(_AUTO_REPLY_SUBJECT.match(str(message.get("Subject", ""))))


def _dsn(message: Message) -> Report | None:
    """The worst per-recipient Status of a DSN (5 beats 4); None if it has no status."""
    worst: tuple[str, str] | None = None
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        for block in _status_blocks(part):
            status = str(block.get("Status", "")).strip()
            match = _STATUS.match(status)
            if not match or match[1] == "2":
                continue
            diagnostic = " ".join(str(block.get("Diagnostic-Code", "")).split())
            reason = f"{status} {diagnostic}".strip()[:480]
            if worst is None or match[1] > worst[0]:
                worst = (match[1], reason)
    if worst is None:
        return None
    kind = ReportKind.HARD_BOUNCE if worst[0] == "5" else ReportKind.SOFT_BOUNCE
    return Report(kind, "DSN " + worst[1])


def _status_blocks(part: Message) -> list[Message]:
    """The header blocks of a message/delivery-status part (per-message, per-recipient)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = str(payload).replace("\r\n", "\n")
    return [message_from_bytes(b.encode()) for b in re.split(r"\n\s*\n", text) if b.strip()]


def _complaint(message: Message) -> Report:
    senders: list[str] = []
    message_ids: list[str] = []
    delivery = ""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type == "message/feedback-report":
            fields = _feedback_fields(part)
            senders += [v for k, v in fields if k == "original-mail-from"]
        elif content_type in ("message/rfc822", "text/rfc822-headers"):
            original = _original(part)
            if original is None:
                continue
            senders += [str(v) for v in original.get_all("Return-Path", [])]
            message_ids += [str(v).strip() for v in original.get_all("Message-ID", [])]
            delivery = delivery or str(original.get("X-Commsvc-Delivery", "")).strip()
    return Report(
        ReportKind.COMPLAINT,
        "feedback-loop complaint (ARF)",
        original_senders=[s.strip().strip("<>") for s in senders if s.strip()],
        original_message_ids=message_ids,
        original_delivery=delivery,
    )


def _feedback_fields(part: Message) -> list[tuple[str, str]]:
    payload = part.get_payload()
    if isinstance(payload, list):  # parsed as a message's header block
        blocks = [b for b in payload if isinstance(b, Message)]
        return [(k.lower(), str(v).strip()) for b in blocks for k, v in b.items()]
    lines = str(payload).replace("\r\n", "\n").split("\n")
    return [
        (name.strip().lower(), value.strip())
        for name, sep, value in (line.partition(":") for line in lines)
        if sep
    ]


def _original(part: Message) -> Message | None:
    payload = part.get_payload()
    if isinstance(payload, list):
        return payload[0] if payload and isinstance(payload[0], Message) else None
    if isinstance(payload, str):
        return message_from_bytes(payload.encode(errors="replace"))
    return None


def _addresses(found: Iterable[bytes | str]) -> str:
    words = sorted(a.decode(errors="replace") if isinstance(a, bytes) else a for a in found)
    return ", ".join(words)[:400]
