"""The suppression list: addresses never to send to, stored as hashes.

Hashes let an erased member's address stay blocked without keeping the address.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import ColumnElement, String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from commsvc.extensions import db
from commsvc.models import Suppression


def address_hash(channel: str, address: str) -> str:
    normalised = address.strip().lower() if channel == "email" else address.strip()
    return hashlib.sha256(f"{channel}:{normalised}".encode()).hexdigest()


def suppress(channel: str, address: str, reason: str) -> None:
    """Add an address to the list; adding it twice is harmless."""
    digest = address_hash(channel, address)
    exists = db.session.scalar(
        select(Suppression.id).where(
            Suppression.channel == channel, Suppression.address_hash == digest
        )
    )
    if exists is None:
        db.session.add(Suppression(channel=channel, address_hash=digest, reason=reason))
        db.session.flush()


def unsuppress(channel: str, address: str, reasons: Iterable[str]) -> None:
    """Lift a suppression the member themselves can lift (an SMS STOP, by START)."""
    digest = address_hash(channel, address)
    for row in db.session.scalars(
        select(Suppression).where(
            Suppression.channel == channel,
            Suppression.address_hash == digest,
            Suppression.reason.in_(list(reasons)),
        )
    ):
        db.session.delete(row)


def suppressed_among(channel: str, addresses: Iterable[str]) -> set[str]:
    """Which of these addresses are suppressed (one query for a whole chunk)."""
    by_hash = {address_hash(channel, a): a for a in addresses}
    if not by_hash:
        return set()
    hits = db.session.scalars(
        select(Suppression.address_hash).where(
            Suppression.channel == channel, _hash_among(list(by_hash))
        )
    )
    return {by_hash[h] for h in hits}


def _hash_among(hashes: list[str]) -> ColumnElement[bool]:
    """On PostgreSQL one array parameter (`= ANY`): an IN list of a fan-out chunk's
    thousands of placeholders costs more to build and parse than the lookup itself."""
    if db.engine.dialect.name == "postgresql":
        return Suppression.address_hash == any_(bindparam("hashes", hashes, type_=ARRAY(String)))
    return Suppression.address_hash.in_(hashes)


def is_suppressed(channel: str, address: str) -> bool:
    return bool(suppressed_among(channel, [address]))
