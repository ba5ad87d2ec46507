"""How each sender of callbacks proves who it is, checked before anything changes.

- commsvc's own protocol: X-Signature, the hex HMAC-SHA256 of the raw body under
  COMMSVC_WEBHOOK_SECRET.
- Twilio: X-Twilio-Signature, base64 HMAC-SHA1 under the account's auth token of
  the URL Twilio called followed by each POST parameter's name and value, sorted.
- Vonage: a `sig` parameter, hex HMAC-SHA256 under the signature secret (here
  COMMSVC_WEBHOOK_SECRET) of `&name=value` for each other parameter, sorted.
- Postmark: HTTP basic auth in the webhook URL, its password COMMSVC_WEBHOOK_SECRET.
All comparisons are constant-time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def is_signed(secret: str, body: bytes, given: str) -> bool:
    return hmac.compare_digest(given.strip().lower(), sign(secret, body))


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    data = url + "".join(f"{name}{params[name]}" for name in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def is_twilio_signed(
    auth_token: str, urls: list[str], params: Mapping[str, str], given: str
) -> bool:
    if not auth_token or not given:
        return False
    return any(
        hmac.compare_digest(given.strip(), twilio_signature(auth_token, url, params))
        for url in urls
    )


def vonage_signature(secret: str, params: Mapping[str, str]) -> str:
    data = "".join(
        f"&{name}={_vonage_clean(params[name])}" for name in sorted(params) if name != "sig"
    )
    return hmac.new(secret.encode(), data.encode(), hashlib.sha256).hexdigest()


def is_vonage_signed(secret: str, params: Mapping[str, str]) -> bool:
    given = str(params.get("sig") or "")
    return bool(given) and hmac.compare_digest(
        given.strip().lower(), vonage_signature(secret, params)
    )


def is_basic_auth_password(secret: str, password: str | None) -> bool:
    return password is not None and hmac.compare_digest(password.encode(), secret.encode())


def _vonage_clean(value: str) -> str:
    return str(value).replace("&", "_").replace("=", "_")
