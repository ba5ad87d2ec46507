"""VERP addresses at the bounce domain: who a bounce, complaint or mailto unsubscribe is for.

With COMMSVC_BOUNCE_DOMAIN set, each email's envelope sender is
`b-<delivery id>-<mac>@<bounce domain>` and its List-Unsubscribe mailto is
`u-<delivery id>-<mac>@<bounce domain>`. The MAC (HMAC-SHA256 under the secret key,
cut to 16 hex digits) means nobody can make up an address that suppresses another
member: the bounce server refuses any address whose MAC does not match. Local parts
are lower case, as some mail servers lower-case them on the way back.

This module only makes and reads addresses; it touches no database.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

MAC_LENGTH = 16
FEEDBACK_LOCAL_PARTS = ("fbl", "abuse")
_MESSAGE_ID = re.compile(r"^<d([0-9]{1,18})\.([0-9a-f]{1,32})\.([0-9a-fA-F]+)@[^>]+>$")
_LOCAL_PART = re.compile(r"^([bu])-([0-9]{1,18})-([0-9a-f]+)$")


class Kind(StrEnum):
    BOUNCE = "b"  # the envelope sender: DSNs, auto-replies, some complaints
    UNSUBSCRIBE = "u"  # the List-Unsubscribe mailto
    FEEDBACK = "feedback"  # fbl@ and abuse@: complaints (ARF)


@dataclass(frozen=True)
class Recipient:
    """A valid address at the bounce domain; `delivery_id` is None for fbl@/abuse@."""

    kind: Kind
    delivery_id: int | None


@dataclass(frozen=True)
class Verp:
    """Makes and checks the addresses of one bounce domain under one secret key."""

    domain: str
    secret_key: str

    def bounce_address(self, delivery_id: int) -> str:
        return self._address(Kind.BOUNCE, delivery_id)

    def unsubscribe_address(self, delivery_id: int) -> str:
        return self._address(Kind.UNSUBSCRIBE, delivery_id)

    def message_id(self, delivery_id: int, nonce: str, domain: str) -> str:
        """A Message-ID that names its delivery with a MAC, so a complaint that only
        quotes the original headers (recipient redacted, RFC 6590) can be trusted."""
        return f"<d{delivery_id}.{nonce}.{self._mac(Kind.BOUNCE, delivery_id, nonce)}@{domain}>"

    def read_message_id(self, message_id: str) -> int | None:
        match = _MESSAGE_ID.match(message_id.strip())
        if match is None:
            return None
        number, nonce, mac = int(match[1]), match[2], match[3].lower()
        if not hmac.compare_digest(mac, self._mac(Kind.BOUNCE, number, nonce)):
            return None
        return number

    def read(self, address: str) -> Recipient | None:
        """What an address at the bounce domain is, or None if it is not ours or forged."""
        local, _, domain = address.strip().strip("<>").rpartition("@")
        if domain.lower() != self.domain.lower():
            return None
        local = local.lower()
        if local in FEEDBACK_LOCAL_PARTS:
            return Recipient(Kind.FEEDBACK, None)
        match = _LOCAL_PART.match(local)
        if match is None:
            return None
        kind, number, mac = Kind(match[1]), int(match[2]), match[3]
        if not hmac.compare_digest(mac, self._mac(kind, number)):
            return None
        return Recipient(kind, number)

    def _address(self, kind: Kind, delivery_id: int) -> str:
        return f"{kind.value}-{delivery_id}-{self._mac(kind, delivery_id)}@{self.domain}"

    def _mac(self, kind: Kind, delivery_id: int, nonce: str = "") -> str:
        keyed = _keyed(self.secret_key).copy()  # the key's pads are hashed once, not per MAC
        keyed.update(f"commsvc.verp:{kind.value}:{delivery_id}:{nonce}".encode())
        return keyed.hexdigest()[:MAC_LENGTH]


@lru_cache(maxsize=4)
def _keyed(secret_key: str) -> hmac.HMAC:
    return hmac.new(secret_key.encode(), digestmod=hashlib.sha256)


def verp_for(domain: str | None, secret_key: str) -> Verp | None:
    """The VERP of this configuration, or None when no bounce domain is set."""
    return Verp(domain.strip().lower(), secret_key) if domain and domain.strip() else None
