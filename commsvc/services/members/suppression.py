"""The suppression list: addresses never to send to, stored as keyed hashes.

Hashes let an erased member's address stay blocked without keeping the address. They
are HMAC-SHA256 under the secret key: a plain SHA-256 of an address can be found by
hashing guesses (every UK mobile number is a few minutes' work), a keyed one cannot
without the key. Rows written before keyed hashes hold the plain SHA-256, which can
not be turned into the keyed one without the address; lookups check both forms, so
those suppressions keep working, and a row is rewritten to the keyed form whenever
its address is suppressed or lifted again.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from functools import lru_cache

from flask import current_app
from sqlalchemy import String, select

from commsvc.extensions import db
from commsvc.models import Suppression, id_lists

HASHES_KEPT = 8192  # addresses whose hashes a process keeps (a few batches' worth)


def address_hash(channel: str, address: str) -> str:
    """The keyed hash stored for an address (HMAC-SHA256 under the secret key)."""
    return _hashes(str(current_app.config["SECRET_KEY"]), channel, address)[0]


def legacy_hash(channel: str, address: str) -> str:
    """The unkeyed SHA-256 that rows written before keyed hashes hold."""
    return _hashes(str(current_app.config["SECRET_KEY"]), channel, address)[1]


def suppress(channel: str, address: str, reason: str) -> None:
    """Add an address to the list; adding it twice is harmless."""
    digest = address_hash(channel, address)
    rows = _rows_for(channel, address)
    for row in rows:
        row.address_hash = digest  # an old unkeyed row becomes keyed
    if not rows:
        db.session.add(Suppression(channel=channel, address_hash=digest, reason=reason))
    db.session.flush()


def unsuppress(channel: str, address: str, reasons: Iterable[str]) -> None:
    """Lift a suppression the member themselves can lift (an SMS STOP, by START)."""
    wanted = set(reasons)
    for row in _rows_for(channel, address):
        if row.reason in wanted:
            db.session.delete(row)


def suppressed_among(channel: str, addresses: Iterable[str]) -> set[str]:
    """Which of these addresses are suppressed (one query for a whole chunk)."""
    secret_key = str(current_app.config["SECRET_KEY"])
    by_hash: dict[str, str] = {}
    for address in addresses:
        keyed, legacy = _hashes(secret_key, channel, address)
        by_hash[keyed] = address
        by_hash[legacy] = address
    if not by_hash:
        return set()
    hits = db.session.scalars(
        select(Suppression.address_hash).where(
            Suppression.channel == channel,
            id_lists.among(Suppression.address_hash, list(by_hash), String),
        )
    )
    return {by_hash[h] for h in hits}


def _rows_for(channel: str, address: str) -> list[Suppression]:
    """The rows of one address, under its keyed or its old unkeyed hash; when both
    exist, only the keyed one is kept."""
    keyed, legacy = address_hash(channel, address), legacy_hash(channel, address)
    rows = list(
        db.session.scalars(
            select(Suppression).where(
                Suppression.channel == channel, Suppression.address_hash.in_([keyed, legacy])
            )
        )
    )
    if len(rows) > 1:
        for row in rows:
            if row.address_hash == legacy:
                db.session.delete(row)
        rows = [row for row in rows if row.address_hash == keyed]
    return rows


@lru_cache(maxsize=HASHES_KEPT)
def _hashes(secret_key: str, channel: str, address: str) -> tuple[str, str]:
    """An address's keyed and legacy hashes. Kept for the addresses met last: a batch
    looks its members up when it starts and again at every recheck as it sends."""
    message = _message(channel, address)
    keyed = _keyed(secret_key).copy()
    keyed.update(message)
    return keyed.hexdigest(), hashlib.sha256(message).hexdigest()


@lru_cache(maxsize=4)
def _keyed(secret_key: str) -> hmac.HMAC:
    """An HMAC already keyed, to copy: keying it costs as much as hashing an address,
    and the send path hashes every address of a batch at each recheck."""
    return hmac.new(secret_key.encode(), digestmod=hashlib.sha256)


def _message(channel: str, address: str) -> bytes:
    normalised = address.strip().lower() if channel == "email" else address.strip()
    return f"{channel}:{normalised}".encode()


def is_suppressed(channel: str, address: str) -> bool:
    return bool(suppressed_among(channel, [address]))
