"""`commsvc check-domain`: are SPF, DKIM and DMARC set up so receivers trust our mail?

Looks up (dnspython) the From domain's SPF and DMARC records, the DKIM key record of the
selector, and the bounce domain's MX and SPF, and says in plain words what to fix.
DMARC passes when SPF or DKIM passes *aligned* with the From domain: SPF is checked
against the envelope sender, which with COMMSVC_BOUNCE_DOMAIN is the bounce domain, so
that must be the From domain or a subdomain of it (relaxed alignment); DKIM signs for
the From domain itself. Only reads DNS; changes nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass

import dns.exception
import dns.resolver
from cryptography.hazmat.primitives import serialization

TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True)
class Finding:
    ok: bool
    topic: str  # SPF, DKIM, DMARC, MX, alignment
    text: str


Lookup = Callable[[str, str], list[str]]


def check_domain(
    domain: str,
    selector: str | None,
    bounce_domain: str | None,
    public_key: bytes | None = None,
    lookup: Lookup | None = None,
) -> list[Finding]:
    """Every finding, good and bad, in the order a person would fix them."""
    ask = lookup or resolver_lookup(None)
    domain = domain.lower().rstrip(".")
    findings = _spf(domain, ask, "the From domain")
    if bounce_domain:
        findings += _bounce_domain(domain, bounce_domain, ask)
    findings += _dkim(domain, selector, public_key, ask)
    findings += _dmarc(domain, bounce_domain, ask)
    return findings


def resolver_lookup(nameserver: str | None) -> Lookup:
    """TXT and MX answers as strings, from the system's resolver or one given server."""
    resolver = dns.resolver.Resolver(configure=nameserver is None)
    if nameserver:
        host, _, port = nameserver.partition(":")
        resolver.nameservers = [host]
        resolver.port = int(port or 53)
    resolver.lifetime = TIMEOUT_SECONDS

    def lookup(name: str, kind: str) -> list[str]:
        try:
            answer = resolver.resolve(name, kind)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return []
        except dns.exception.DNSException as error:
            raise LookupError(f"could not look up {kind} {name}: {error}") from None
        if kind == "TXT":
            return [b"".join(r.strings).decode(errors="replace") for r in answer]
        return [str(r.exchange).rstrip(".") for r in answer]

    return lookup


def public_key_of(private_pem: bytes) -> bytes:
    """The public key, as a DKIM record's p= holds it (DER; raw 32 bytes for Ed25519)."""
    key = serialization.load_pem_private_key(private_pem, password=None).public_key()
    try:
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    except ValueError:  # RSA has no raw form
        return key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def _spf(domain: str, ask: Lookup, role: str) -> list[Finding]:
    records = [t for t in ask(domain, "TXT") if t.lower().startswith("v=spf1")]
    if not records:
        return [
            Finding(
                False,
                "SPF",
                f"{domain} ({role}) has no SPF record. Add a TXT record at {domain}: "
                f'"v=spf1 mx a:<your mail relay> ~all" naming the servers that send its mail.',
            )
        ]
    if len(records) > 1:
        return [
            Finding(False, "SPF", f"{domain} has {len(records)} SPF records; merge them into one.")
        ]
    record = records[0]
    if record.split()[-1] in ("+all", "all"):
        return [
            Finding(False, "SPF", f"{domain}'s SPF ends in +all: anyone may send as it. Use ~all.")
        ]
    return [Finding(True, "SPF", f"{domain} ({role}) has an SPF record: {record}")]


def _bounce_domain(domain: str, bounce_domain: str, ask: Lookup) -> list[Finding]:
    findings = []
    exchangers = ask(bounce_domain, "MX")
    if exchangers:
        findings.append(Finding(True, "MX", f"{bounce_domain} receives mail at {exchangers[0]}."))
    else:
        findings.append(
            Finding(
                False,
                "MX",
                f"{bounce_domain} has no MX record, so bounces and complaints cannot come "
                f"back. Add an MX record for {bounce_domain} pointing at the host that runs "
                "`commsvc bounce-server` (port 25).",
            )
        )
    findings += _spf(bounce_domain, ask, "the bounce domain, checked by SPF")
    if not _aligned(bounce_domain, domain):
        findings.append(
            Finding(
                False,
                "alignment",
                f"{bounce_domain} is not {domain} or a subdomain of it, so SPF never aligns "
                f"for DMARC. Use a bounce domain such as bounces.{domain}.",
            )
        )
    return findings


def _dkim(
    domain: str, selector: str | None, public_key: bytes | None, ask: Lookup
) -> list[Finding]:
    if not selector:
        return [
            Finding(
                False,
                "DKIM",
                "No DKIM selector given: set COMMSVC_DKIM_SELECTOR and COMMSVC_DKIM_PRIVATE_KEY "
                "(or pass --selector) so every email is signed for " + domain + ".",
            )
        ]
    name = f"{selector}._domainkey.{domain}"
    records = [t for t in ask(name, "TXT") if "p=" in t]
    if not records:
        return [
            Finding(
                False,
                "DKIM",
                f"No DKIM key at {name}. Publish a TXT record there: "
                + (_record(public_key) if public_key else '"v=DKIM1; k=rsa; p=<public key>"'),
            )
        ]
    tags = dict(
        (part.split("=", 1)[0].strip(), part.split("=", 1)[1].strip())
        for part in records[0].split(";")
        if "=" in part
    )
    published = "".join(tags.get("p", "").split())
    if not published:
        return [Finding(False, "DKIM", f"The DKIM key at {name} is revoked (empty p=).")]
    if public_key is not None and base64.b64decode(published + "==") != public_key:
        return [
            Finding(
                False,
                "DKIM",
                f"The key at {name} is not the public half of COMMSVC_DKIM_PRIVATE_KEY. "
                f"Publish: {_record(public_key)}",
            )
        ]
    return [Finding(True, "DKIM", f"{name} publishes a DKIM key ({tags.get('k', 'rsa')}).")]


def _dmarc(domain: str, bounce_domain: str | None, ask: Lookup) -> list[Finding]:
    records = [t for t in ask(f"_dmarc.{domain}", "TXT") if t.lower().startswith("v=dmarc1")]
    if not records:
        return [
            Finding(
                False,
                "DMARC",
                f"{domain} has no DMARC policy; Gmail, Yahoo and Microsoft require one of bulk "
                f'senders. Add a TXT record at _dmarc.{domain}: "v=DMARC1; p=none; '
                f'rua=mailto:dmarc-reports@{domain}", then move to p=quarantine.',
            )
        ]
    tags = {
        part.split("=", 1)[0].strip().lower(): part.split("=", 1)[1].strip().lower()
        for part in records[0].split(";")
        if "=" in part
    }
    findings = [Finding(True, "DMARC", f"_dmarc.{domain}: {records[0]}")]
    if tags.get("p") == "none":
        findings.append(
            Finding(
                True,
                "DMARC",
                "The policy is p=none: receivers only report. Once reports show your mail "
                "passing, move to p=quarantine.",
            )
        )
    if tags.get("aspf") == "s" and bounce_domain and bounce_domain != domain:
        findings.append(
            Finding(
                False,
                "alignment",
                f"aspf=s (strict) means SPF on {bounce_domain} never aligns with {domain}; "
                "DKIM must pass alone. Remove aspf=s to allow subdomains.",
            )
        )
    return findings


def _record(public_key: bytes) -> str:
    kind = "ed25519" if len(public_key) == 32 else "rsa"
    return f'"v=DKIM1; k={kind}; p={base64.b64encode(public_key).decode()}"'


def _aligned(bounce_domain: str, domain: str) -> bool:
    return bounce_domain == domain or bounce_domain.endswith("." + domain)
