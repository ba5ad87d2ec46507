"""`commsvc check-domain` against a DNS server the test runs on loopback (UDP, dnspython)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator

import dns.message
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from commsvc.domain_check import public_key_of

KEY_PEM = ed25519.Ed25519PrivateKey.generate().private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)


class DnsServer:
    """Answers TXT and MX queries from a dict; NXDOMAIN for anything else. Stops itself."""

    def __init__(self, records: dict[tuple[str, str], list[str]]) -> None:
        self.records = records
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.2)
        self.port = self.socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> DnsServer:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.socket.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                wire, peer = self.socket.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(wire)
            response = dns.message.make_response(query)
            question = query.question[0]
            name = question.name.to_text().rstrip(".").lower()
            kind = dns.rdatatype.to_text(question.rdtype)
            answers = self.records.get((name, kind), [])
            if answers:
                texts = [f'"{a}"' if kind == "TXT" else a for a in answers]
                response.answer.append(
                    dns.rrset.from_text(question.name, 60, dns.rdataclass.IN, kind, *texts)
                )
            elif not any(n == name for n, _k in self.records):
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.socket.sendto(response.to_wire(), peer)


def run(env: dict[str, str], port: int, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "commsvc",
            "check-domain",
            *args,
            "--nameserver",
            f"127.0.0.1:{port}",
        ],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def domain_env(base_env, tmp_path) -> Iterator[dict[str, str]]:
    key = tmp_path / "dkim.pem"
    key.write_bytes(KEY_PEM)
    yield {
        **base_env,
        "COMMSVC_BOUNCE_DOMAIN": "bounces.union.example",
        "COMMSVC_DKIM_SELECTOR": "s2026",
        "COMMSVC_DKIM_PRIVATE_KEY": str(key),
    }


def test_a_domain_set_up_right_is_all_ok(domain_env, _schema):
    import base64

    record = "v=DKIM1; k=ed25519; p=" + base64.b64encode(public_key_of(KEY_PEM)).decode()
    records = {
        ("union.example", "TXT"): ["v=spf1 mx a:relay.union.example ~all"],
        ("bounces.union.example", "MX"): ["10 mx.union.example."],
        ("bounces.union.example", "TXT"): ["v=spf1 a:relay.union.example -all"],
        ("s2026._domainkey.union.example", "TXT"): [record],
        ("_dmarc.union.example", "TXT"): ["v=DMARC1; p=quarantine; rua=mailto:d@union.example"],
    }
    with DnsServer(records) as server:
        result = run(domain_env, server.port, "union.example")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FIX" not in result.stdout
    for topic in ("SPF", "MX", "DKIM", "DMARC"):
        assert f"ok   {topic}" in result.stdout


def test_missing_and_wrong_records_are_explained_with_their_fix(domain_env, _schema):
    records = {
        ("union.example", "TXT"): ["v=spf1 +all"],
        ("s2026._domainkey.union.example", "TXT"): ["v=DKIM1; k=rsa; p=AAAA"],
        ("_dmarc.union.example", "TXT"): ["v=DMARC1; p=none; aspf=s"],
    }
    with DnsServer(records) as server:
        result = run(domain_env, server.port, "union.example")
    out = result.stdout
    assert result.returncode == 1
    assert "anyone may send as it" in out
    assert "bounces.union.example has no MX record" in out and "commsvc bounce-server" in out
    assert "bounces.union.example (the bounce domain, checked by SPF) has no SPF record" in out
    assert "not the public half of COMMSVC_DKIM_PRIVATE_KEY" in out and "k=ed25519" in out
    assert "p=none" in out and "aspf=s" in out


def test_an_unreachable_dns_server_is_a_clear_error(domain_env, _schema):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as silent:
        silent.bind(("127.0.0.1", 0))
        result = run(domain_env, silent.getsockname()[1], "union.example")
    assert result.returncode == 1
    assert "could not look up" in result.stderr
