"""VERP, Feedback-ID and DKIM on a built email: what a receiving server checks."""

from __future__ import annotations

import base64
import email
from email import policy

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from commsvc.errors import ConfigError
from commsvc.services.bulletins.dkim_signature import SIGNED_HEADERS, DkimSigner
from commsvc.services.bulletins.email_message import EmailSkeleton, feedback_id
from commsvc.services.bulletins.rendering import RenderedEmail
from commsvc.services.delivery.verp import Kind, Verp

SECRET = "test-secret-key"
RENDERED = RenderedEmail(
    subject="Pay offer: have your say, Alex — café",
    text="Dear Alex,\n\nThe pay offer is out.   Trailing  \n\n\n",
    html="<p>Dear Alex,</p>\t<p>The pay offer is out.</p>",
)


def rsa_pem(bits: int = 2048) -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return _pems(key, "rsa")


def ed25519_pem() -> tuple[bytes, str]:
    return _pems(ed25519.Ed25519PrivateKey.generate(), "ed25519")


def _pems(key, kind: str) -> tuple[bytes, str]:
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    if kind == "rsa":
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    else:
        public = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
    return private, f"v=DKIM1; k={kind}; p={base64.b64encode(public).decode()}"


def dns_answering(record: str, selector: str = "s1", domain: str = "union.example"):
    def dnsfunc(name: bytes, timeout: int = 5) -> bytes:
        assert name == f"{selector}._domainkey.{domain}.".encode()
        return record.encode()

    return dnsfunc


def build(verp: Verp | None = None, signer: DkimSigner | None = None, delivery_id: int = 42):
    skeleton = EmailSkeleton(
        "Union Bulletins <bulletins@union.example>", "union.example", verp, signer
    )
    return skeleton.build(
        RENDERED,
        delivery_id=delivery_id,
        recipient="alex@example.org",
        unsubscribe_url="https://union.example/u/token",
        feedback_id=feedback_id(7, 3, 2),
    )


def test_envelope_sender_is_a_verp_address_with_a_mac_when_a_bounce_domain_is_set():
    verp = Verp("bounces.union.example", SECRET)
    envelope = build(verp)
    assert envelope.sender == "Union Bulletins <bulletins@union.example>"
    assert envelope.mail_from.startswith("b-42-") and envelope.mail_from.endswith(
        "@bounces.union.example"
    )
    assert verp.read(envelope.mail_from).delivery_id == 42
    message = email.message_from_bytes(envelope.data, policy=policy.default)
    assert message["Feedback-ID"] == "b7:p3:t2:commsvc"
    mailto = str(message["List-Unsubscribe"]).split("<mailto:")[1].split("?")[0]
    assert verp.read(mailto).kind == Kind.UNSUBSCRIBE
    assert verp.read(mailto).delivery_id == 42


def test_without_a_bounce_domain_the_envelope_sender_is_the_from_address():
    envelope = build()
    assert envelope.mail_from == envelope.sender
    message = email.message_from_bytes(envelope.data, policy=policy.default)
    assert "mailto:bulletins@union.example?subject=unsubscribe-42" in message["List-Unsubscribe"]


def test_forged_or_foreign_verp_addresses_are_not_read():
    verp = Verp("bounces.union.example", SECRET)
    good = verp.bounce_address(42)
    mac = good.split("-")[2].split("@")[0]
    assert verp.read(good.upper()).delivery_id == 42  # servers may change the case
    assert verp.read(f"b-43-{mac}@bounces.union.example") is None
    assert verp.read(f"u-42-{mac}@bounces.union.example") is None
    assert verp.read(good.replace("bounces.", "other.")) is None
    assert Verp("bounces.union.example", "another key").read(good) is None
    assert verp.read("fbl@bounces.union.example").kind == Kind.FEEDBACK
    assert verp.read("abuse@Bounces.Union.Example").kind == Kind.FEEDBACK
    assert verp.read("postmaster@bounces.union.example") is None


@pytest.mark.parametrize("make_key", [rsa_pem, ed25519_pem], ids=["rsa2048", "ed25519"])
def test_signed_email_verifies_with_dkimpy_and_covers_the_one_click_headers(make_key):
    private, record = make_key()
    signer = DkimSigner("s1", "union.example", private)
    envelope = build(Verp("bounces.union.example", SECRET), signer)
    assert dkim.verify(envelope.data, dnsfunc=dns_answering(record))
    message = email.message_from_bytes(envelope.data, policy=policy.default)
    tags = dict(
        tag.strip().split("=", 1)
        for tag in str(message["DKIM-Signature"]).split(";")
        if tag.strip()
    )
    assert tags["c"] == "relaxed/relaxed" and tags["d"] == "union.example"
    assert set(tags["h"].replace(" ", "").split(":")) == {h.decode() for h in SIGNED_HEADERS}
    # A changed one-click header breaks the signature.
    tampered = envelope.data.replace(b"List-Unsubscribe=One-Click", b"List-Unsubscribe=Nope")
    assert not dkim.verify(tampered, dnsfunc=dns_answering(record))


def test_a_short_rsa_key_is_refused():
    private, _record = rsa_pem(1024)
    with pytest.raises(ConfigError):
        DkimSigner("s1", "union.example", private)


@pytest.mark.parametrize(
    "body",
    [
        b"plain\r\nlines\r\n",
        b"two  spaces\r\n\ttab\r\ntrailing \r\n\r\n\r\n",
        b"ends without a line end",
        b"\r\n\r\n",
        b"",
        b"a \t  \t b\r\n  \r\n\t\r\nend   \t\r\n\r\n",
        b"        <p>indented\r\n    </p>   \r\n",
        b" \r\n",
    ],
)
def test_the_fast_relaxed_body_equals_dkimpys(body):
    from dkim.canonicalization import Relaxed

    from commsvc.services.bulletins.dkim_signature import relaxed_body

    assert relaxed_body(body) == Relaxed.canonicalize_body(body)
