"""Bounces, complaints and auto-replies sent over SMTP to a running `commsvc bounce-server`:
each changes exactly the member it is about, as promised, and nothing else.

The bulletin is sent first by a real worker with VERP and DKIM on; every email it
sent verifies with dkimpy against the test's public key.
"""

from __future__ import annotations

import base64
import os
import smtplib
import subprocess
import sys
import time
from email import message_from_bytes, policy

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from commsvc import embedded_redis, processes
from commsvc.extensions import db
from commsvc.models import (
    ConsentRecord,
    Delivery,
    DeliveryAttempt,
    Member,
    Suppression,
    Topic,
)
from commsvc.services.members import suppression
from tests import factories
from tests.e2e import bounce_samples
from tests.e2e.test_send_bulletin import wait_until_sent

pytestmark = pytest.mark.e2e
BOUNCE_DOMAIN = "bounces.union.example"
SERVER_START_SECONDS = 30
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
PUBLIC_RECORD = (
    "v=DKIM1; k=rsa; p="
    + base64.b64encode(
        KEY.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    ).decode()
)


@pytest.fixture
def env(env, tmp_path, monkeypatch):
    """The usual environment, with a bounce domain and a DKIM key."""
    key_path = tmp_path / "dkim.pem"
    key_path.write_bytes(
        KEY.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    extra = {
        "COMMSVC_BOUNCE_DOMAIN": BOUNCE_DOMAIN,
        "COMMSVC_DKIM_SELECTOR": "s2026",
        "COMMSVC_DKIM_PRIVATE_KEY": str(key_path),
    }
    for name, value in extra.items():
        monkeypatch.setenv(name, value)
    return {**env, **extra}


@pytest.fixture
def bounce_server(env, app):
    port = embedded_redis.free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "commsvc", "bounce-server", "--port", str(port)],
        env={**os.environ, **env},
    )
    deadline = time.monotonic() + SERVER_START_SECONDS
    while True:
        assert process.poll() is None, "the bounce server exited"
        try:
            smtplib.SMTP("127.0.0.1", port, timeout=5).quit()
            break
        except OSError:
            assert time.monotonic() < deadline, "the bounce server did not start"
            time.sleep(0.2)
    yield port
    processes.stop_process(process, 20)


def dkim_dns(name: bytes, timeout: int = 5) -> bytes:
    assert name == b"s2026._domainkey.union.example."
    return PUBLIC_RECORD.encode()


def test_each_report_changes_exactly_its_member(app, client, worker, email_sink, bounce_server):
    partnership = factories.partnership()
    factories.topics("bargaining", "campaigns")
    names = ["hard", "exim", "qmail", "complaint", "away", "forged", "mailto", "quiet"]
    rows = [factories.member_row(first_name=n.title(), email=f"{n}@example.org") for n in names]
    assert factories.import_rows(rows).ok
    headers = factories.api_key()
    body = factories.bulletin_body(partnership.id, channels=["email"])
    bulletin = client.post("/api/v1/bulletins", json=body, headers=headers).get_json()
    assert client.post(f"/api/v1/bulletins/{bulletin['id']}/send", headers=headers).status_code
    wait_until_sent(client, headers, bulletin["id"])

    sent = {}  # address -> (envelope sender, raw message)
    for mail_from, recipients, content in email_sink.messages:
        assert dkim.verify(content, dnsfunc=dkim_dns), recipients
        signed = message_from_bytes(content, policy=policy.default)["DKIM-Signature"]
        assert "list-unsubscribe:list-unsubscribe-post" in str(signed).replace(" ", "")
        assert mail_from.startswith("b-") and mail_from.endswith("@" + BOUNCE_DOMAIN)
        sent[recipients[0]] = (mail_from, content)
    assert set(sent) == {f"{n}@example.org" for n in names}
    before = snapshot()

    def deliver(to: str, message: bytes) -> None:
        with smtplib.SMTP("127.0.0.1", bounce_server, timeout=30) as smtp:
            smtp.sendmail("", [to], message)

    verp = {n: sent[f"{n}@example.org"][0] for n in names}
    original = {n: sent[f"{n}@example.org"][1] for n in names}
    deliver(
        verp["hard"], bounce_samples.postfix_dsn(original["hard"], verp["hard"], "hard@example.org")
    )
    deliver(
        verp["exim"],
        bounce_samples.exim_delay_dsn(original["exim"], verp["exim"], "exim@example.org"),
    )
    deliver(
        verp["qmail"],
        bounce_samples.qmail_bounce(original["qmail"], verp["qmail"], "qmail@example.org"),
    )
    deliver(
        f"fbl@{BOUNCE_DOMAIN}",
        bounce_samples.arf_complaint_redacted(original["complaint"], verp["complaint"]),
    )
    deliver(verp["away"], bounce_samples.out_of_office(verp["away"], "away@example.org"))
    forged = verp["forged"].split("-")
    forged_address = f"{forged[0]}-{forged[1]}-{'0' * 16}@{BOUNCE_DOMAIN}"
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        deliver(
            forged_address,
            bounce_samples.postfix_dsn(original["forged"], forged_address, "forged@example.org"),
        )
    assert refused.value.recipients[forged_address][0] == 550
    unsubscribe = str(message_from_bytes(original["mailto"])["List-Unsubscribe"])
    mailto = unsubscribe.split("<mailto:")[1].split("?")[0]
    assert mailto.endswith("@" + BOUNCE_DOMAIN)
    deliver(mailto, b"From: mailto@example.org\r\nSubject: unsubscribe\r\n\r\nunsubscribe\r\n")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        deliver(f"postmaster@{BOUNCE_DOMAIN}", b"Subject: hello\r\n\r\nhi\r\n")

    db.session.expire_all()
    after = snapshot()
    changed = {name for name in names if before[name] != after[name]}
    assert changed == {"hard", "exim", "qmail", "complaint", "mailto"}
    assert after["hard"]["status"] == "bounced" and after["hard"]["suppressed"] == "hard_bounce"
    assert "5.1.1" in after["hard"]["last_error"]
    assert after["qmail"]["status"] == "bounced" and after["qmail"]["suppressed"] == "hard_bounce"
    # A soft bounce is recorded, and is not yet a suppression.
    assert after["exim"]["attempts"][-1] == "soft_bounce" and after["exim"]["suppressed"] is None
    assert after["exim"]["status"] == "sent"
    # A complaint: suppressed, campaigns stopped, with a consent record; the email stays sent.
    assert after["complaint"]["suppressed"] == "complaint"
    assert after["complaint"]["opted_out"] is True
    assert after["complaint"]["consent"][-1] == "complaint"
    assert after["complaint"]["status"] == "sent"
    # The mailto stopped the bulletin's topic, as the one-click POST does.
    assert after["mailto"]["topics_off"] == ["bargaining"]
    assert after["mailto"]["consent"][-1] == "mailto"
    assert after["mailto"]["suppressed"] is None


def snapshot() -> dict[str, dict]:
    """Everything a report may change, per member (by first name, lower case)."""
    state = {}
    for member in db.session.scalars(select(Member)):
        delivery = db.session.scalar(select(Delivery).where(Delivery.member_id == member.id))
        reason = db.session.scalar(
            select(Suppression.reason).where(
                Suppression.address_hash == suppression.address_hash("email", member.email)
            )
        )
        state[member.first_name.lower()] = {
            "status": delivery.status,
            "last_error": delivery.last_error or "",
            "attempts": list(
                db.session.scalars(
                    select(DeliveryAttempt.outcome)
                    .where(DeliveryAttempt.delivery_id == delivery.id)
                    .order_by(DeliveryAttempt.id)
                )
            ),
            "suppressed": reason,
            "opted_out": member.opted_out,
            "email_enabled": member.email_enabled,
            "topics_off": sorted(
                db.session.get(Topic, p.topic_id).name
                for p in member.topic_preferences
                if not p.subscribed
            ),
            "consent": list(
                db.session.scalars(
                    select(ConsentRecord.source)
                    .where(ConsentRecord.member_id == member.id)
                    .order_by(ConsentRecord.id)
                )
            ),
        }
    return state
