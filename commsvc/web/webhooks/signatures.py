"""How each sender of callbacks proves who it is, checked before anything changes.

- commsvc's own protocol: X-Signature, the hex HMAC-SHA256 under
  COMMSVC_WEBHOOK_SECRET of the raw body, or, when the sender also gives
  X-Timestamp (Unix seconds), of `<timestamp>.` followed by the raw body; a
  timestamped callback is only good within `replay.WINDOW_SECONDS` of its time.
- Twilio: X-Twilio-Signature, base64 HMAC under the secret of the URL Twilio called
  (with or without its default port) followed by each POST parameter's name and
  value, sorted. The secret is any configured Twilio account's auth token (HMAC-SHA1),
  or, with X-Twilio-Webhooks-Signature-Settings (a SharedKey, `algorithm=HMAC_SHA256`),
  COMMSVC_WEBHOOK_SECRET as well. As twilio's own RequestValidator checks it.
- Vonage: a `sig` parameter, hex HMAC-SHA256 under the signature secret (here
  COMMSVC_WEBHOOK_SECRET) of `&name=value` for each other parameter, sorted.
- Postmark: HTTP basic auth in the webhook URL, its password COMMSVC_WEBHOOK_SECRET.
All comparisons are constant-time and on bytes, so a signature in odd characters is
simply wrong, never an error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit, urlunsplit

TWILIO_ALGORITHMS = {"HMAC_SHA1": "sha1", "HMAC_SHA256": "sha256"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def sign(secret: str, body: bytes, timestamp: str | None = None) -> str:
    signed = body if timestamp is None else timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def is_signed(secret: str, body: bytes, given: str, timestamp: str | None = None) -> bool:
    if timestamp is not None and not (timestamp.isascii() and timestamp.isdigit()):
        return False
    return same(given.strip().lower(), sign(secret, body, timestamp))


def same(given: str, expected: str) -> bool:
    """Constant-time equality that never raises (compare_digest refuses non-ASCII str)."""
    return hmac.compare_digest(
        given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def twilio_signature(
    secret: str, url: str, params: Iterable[tuple[str, str]], algorithm: str = "HMAC_SHA1"
) -> str:
    values: dict[str, set[str]] = {}
    for name, value in params:
        values.setdefault(name, set()).add(value)
    data = url + "".join(name + value for name in sorted(values) for value in sorted(values[name]))
    digest = hmac.new(
        secret.encode(), data.encode("utf-8", "surrogatepass"), TWILIO_ALGORITHMS[algorithm]
    ).digest()
    return base64.b64encode(digest).decode()


def twilio_algorithm(settings_header: str) -> str:
    """The algorithm X-Twilio-Webhooks-Signature-Settings names; HMAC_SHA1 without one."""
    for part in settings_header.split(","):
        name, separator, value = part.partition("=")
        if separator and name.strip() == "algorithm" and value.strip():
            return value.strip().upper()
    return "HMAC_SHA1"


def is_twilio_signed(
    secrets: Iterable[str],
    urls: Iterable[str],
    params: Iterable[tuple[str, str]],
    given: str,
    algorithm: str = "HMAC_SHA1",
) -> bool:
    if not given or algorithm not in TWILIO_ALGORITHMS:
        return False
    params = list(params)
    candidates = {variant for url in urls for variant in _with_and_without_port(url)}
    return any(
        same(given.strip(), twilio_signature(secret, url, params, algorithm))
        for secret in secrets
        if secret
        for url in sorted(candidates)
    )


def vonage_signature(secret: str, params: Mapping[str, str]) -> str:
    data = "".join(
        f"&{name}={_vonage_clean(params[name])}" for name in sorted(params) if name != "sig"
    )
    return hmac.new(
        secret.encode(), data.encode("utf-8", "surrogatepass"), hashlib.sha256
    ).hexdigest()


def is_vonage_signed(secret: str, params: Mapping[str, str]) -> bool:
    given = str(params.get("sig") or "")
    return bool(given) and same(given.strip().lower(), vonage_signature(secret, params))


def is_basic_auth_password(secret: str, password: str | None) -> bool:
    return password is not None and same(password, secret)


def _with_and_without_port(url: str) -> set[str]:
    """Twilio signs the URL as configured, which may or may not spell the default port."""
    parts = urlsplit(url)
    default = _DEFAULT_PORTS.get(parts.scheme)
    host = parts.netloc.rsplit("@", 1)[-1]
    bare = host.rsplit(":", 1)[0] if parts.port is not None else host
    variants = {url, urlunsplit(parts._replace(netloc=bare))}
    if parts.port is None and default is not None:
        variants.add(urlunsplit(parts._replace(netloc=f"{bare}:{default}")))
    return variants


def _vonage_clean(value: str) -> str:
    return str(value).replace("&", "_").replace("=", "_")
