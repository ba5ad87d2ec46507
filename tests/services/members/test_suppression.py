"""A chunk's suppressed addresses are found in one lookup, whichever form their row has."""

from __future__ import annotations

import hashlib

from commsvc.extensions import db
from commsvc.models import Suppression
from commsvc.services.members import suppression


def test_a_fan_out_chunk_finds_exactly_its_suppressed_addresses(app):
    addresses = [f"member{n}@example.org" for n in range(3000)]
    for address in addresses[::100]:  # 30 suppressed the usual way, keyed
        suppression.suppress("email", address, "bounce")
    legacy = hashlib.sha256(b"email:member7@example.org").hexdigest()  # an old row
    db.session.add(Suppression(channel="email", address_hash=legacy, reason="erasure"))
    suppression.suppress("sms", "+447800600001", "stop")  # another channel: no match
    db.session.commit()
    # Looked up as a batch reads them: mixed case and spaces, twice (the recheck).
    asked = [f" {a.upper()} " if n % 2 else a for n, a in enumerate(addresses)]
    for _ in range(2):
        found = suppression.suppressed_among("email", asked)
        assert {a.strip().lower() for a in found} == {*addresses[::100], "member7@example.org"}
    assert not suppression.suppressed_among("email", ["+447800600001"])
    assert suppression.suppressed_among("sms", ["+447800600001"]) == {"+447800600001"}


def test_another_secret_key_does_not_find_keyed_rows(app):
    suppression.suppress("email", "dai@example.org", "bounce")
    db.session.commit()
    assert suppression.is_suppressed("email", "dai@example.org")
    app.config["SECRET_KEY"] = "another-secret-key-of-the-usual-length-0000"
    assert not suppression.is_suppressed("email", "dai@example.org")
