"""DKIM signatures (RFC 6376, relaxed/relaxed; RSA-SHA256 or Ed25519-SHA256, RFC 8463).

`dkim.sign` parses every message back into headers and signs with pure-Python RSA,
several milliseconds a message. Here the email is built from known header lines, so
the relaxed canonicalisation is done on those directly (C-speed `bytes` passes, equal
to dkimpy's `Relaxed` rules: tests compare them, and dkimpy canonicalises the
signature header itself), and the `cryptography` package (OpenSSL) signs. Tests verify
every signature with `dkim.verify`, so the two cannot drift apart unnoticed.

The signature covers the headers in SIGNED_HEADERS that the message has, including
the one-click unsubscribe headers (RFC 8058 asks for them to be signed).
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, padding, rsa
from dkim.canonicalization import Relaxed

from commsvc.errors import ConfigError

SIGNED_HEADERS = (
    b"from",
    b"to",
    b"subject",
    b"date",
    b"message-id",
    b"mime-version",
    b"content-type",
    b"list-unsubscribe",
    b"list-unsubscribe-post",
    b"feedback-id",
)
MIN_RSA_BITS = 2048
CRLF = b"\r\n"


class DkimSigner:
    """Signs messages for one domain with one selector and key."""

    def __init__(self, selector: str, domain: str, key_pem: bytes) -> None:
        try:
            key = serialization.load_pem_private_key(key_pem, password=None)
        except (ValueError, TypeError) as error:
            raise ConfigError(
                f"COMMSVC_DKIM_PRIVATE_KEY is not a usable PEM key: {error}"
            ) from None
        if isinstance(key, rsa.RSAPrivateKey):
            if key.key_size < MIN_RSA_BITS:
                raise ConfigError(f"the DKIM RSA key must have at least {MIN_RSA_BITS} bits")
            self.algorithm = "rsa-sha256"
        elif isinstance(key, ed25519.Ed25519PrivateKey):
            self.algorithm = "ed25519-sha256"
        else:
            raise ConfigError("the DKIM key must be RSA (2048 bits or more) or Ed25519")
        self._key = key
        self.selector, self.domain = selector, domain.lower()

    def signature_line(self, header_lines: Sequence[bytes], body: bytes) -> bytes:
        """The `DKIM-Signature:` line (CRLF-ended) for a message of these header lines
        (each `Name: value\\r\\n`, possibly folded) and this body."""
        by_name: dict[bytes, bytes] = {}
        for line in header_lines:
            name, _, value = line.partition(b":")
            by_name.setdefault(name.strip().lower(), value)
        signed = [(name, by_name[name]) for name in SIGNED_HEADERS if name in by_name]
        canonical = [(name, _relaxed_value(value)) for name, value in signed]
        body_hash = base64.b64encode(hashlib.sha256(relaxed_body(body)).digest())
        tags = (
            f" v=1; a={self.algorithm}; c=relaxed/relaxed; d={self.domain};"
            f" s={self.selector}; t={int(time.time())};\r\n"
            f"\th={':'.join(name.decode() for name, _ in signed)};\r\n"
            f"\tbh={body_hash.decode()};\r\n\tb="
        ).encode()
        ((_, own),) = Relaxed.canonicalize_headers([(b"dkim-signature", tags)])
        data = b"".join(name + b":" + value for name, value in canonical)
        data += b"dkim-signature:" + own.rstrip(b"\r\n")
        return b"DKIM-Signature:" + tags + base64.b64encode(self._sign(data)) + b"\r\n"

    def _sign(self, data: bytes) -> bytes:
        if isinstance(self._key, rsa.RSAPrivateKey):
            return self._key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        # RFC 8463: Ed25519 signs the SHA-256 hash of the canonical headers.
        return self._key.sign(hashlib.sha256(data).digest())


def relaxed_body(body: bytes) -> bytes:
    """The relaxed body (RFC 6376 3.4.4) of a body whose lines all end in CRLF, as
    `email_message` builds them: no spaces or tabs before a line end, runs of them as
    one space, no empty lines at the end. dkimpy's function runs regular expressions
    that stop at every space of a bulletin (a tenth of a millisecond and more); a few
    `bytes` passes in C do the same here (equal results: tests compare the two)."""
    if b"\t" in body:
        body = body.replace(b"\t", b" ")
    while b"  " in body:  # each pass halves every run: a few passes at most
        body = body.replace(b"  ", b" ")
    if b" \r\n" in body:  # runs are single spaces now
        body = body.replace(b" \r\n", CRLF)
    stripped = body.rstrip(CRLF)
    return stripped + CRLF if stripped else b""


def _relaxed_value(value: bytes) -> bytes:
    """A header value, relaxed (RFC 6376 3.4.2): unfolded, runs of WSP as one space,
    stripped. The values built here hold no other ASCII whitespace than CR, LF, SP
    and HTAB (`email_message._header`), for which this equals dkimpy's rules."""
    return b" ".join(value.split()) + CRLF


@lru_cache(maxsize=8)
def signer_for(selector: str, domain: str, key_path: str) -> DkimSigner:
    """One signer per selector, domain and key file per process (the key is read once)."""
    try:
        key_pem = Path(key_path).read_bytes()
    except OSError as error:
        raise ConfigError(f"cannot read COMMSVC_DKIM_PRIVATE_KEY {key_path}: {error}") from None
    return DkimSigner(selector, domain, key_pem)
