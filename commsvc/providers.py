"""Which providers serve each channel, read from COMMSVC_EMAIL_URL and COMMSVC_SMS_URL.

A URL value may name several providers, comma-separated, each with options after
`;`: `weight=N` (share of traffic), `rate=N` (messages a second, shared by all
workers), `concurrency=N` (requests in flight at once, all workers together).
The provider's wire format comes from a scheme prefix (`twilio+https://…`,
`vonage+https://…`, `postmark+https://…`) or from a provider's well-known host;
otherwise `smtp…` is SMTP and `http(s)://` the generic JSON protocol.

This module only parses; the web app reads it for webhook credentials and the
workers build gateways from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from commsvc.errors import ConfigError

EMAIL_KINDS = ("smtp", "email_generic", "postmark")
SMS_KINDS = ("sms_generic", "twilio", "vonage")
_WELL_KNOWN_HOSTS = {
    "api.twilio.com": "twilio",
    "rest.nexmo.com": "vonage",
    "api.nexmo.com": "vonage",
    "api.postmarkapp.com": "postmark",
}
_SMTP_SCHEMES = ("smtp", "smtps", "smtp+starttls")


@dataclass(frozen=True)
class Provider:
    channel: str
    kind: str
    url: str  # the URL to speak to, without the kind prefix or options
    name: str  # stable and unique per channel: the key of its Redis state
    weight: int = 1
    rate: float | None = None
    concurrency: int | None = None

    @property
    def username(self) -> str:
        return unquote(urlsplit(self.url).username or "")

    @property
    def password(self) -> str:
        return unquote(urlsplit(self.url).password or "")

    @property
    def endpoint(self) -> str:
        """The URL without credentials."""
        parts = urlsplit(self.url)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def parse(channel: str, value: str) -> list[Provider]:
    """Parse a channel's URL setting into providers; raise ConfigError if one cannot work."""
    variable = f"COMMSVC_{channel.upper()}_URL"
    providers: list[Provider] = []
    for number, item in enumerate(i.strip() for i in value.split(",")):
        if not item:
            continue
        url, *options = (part.strip() for part in item.split(";"))
        kind, url = _kind(channel, url, variable)
        settings = _options(options, variable)
        parts = urlsplit(url)
        name = f"{kind}:{parts.hostname}:{parts.port or ''}{parts.path}"[:36] + f"#{number}"
        providers.append(
            Provider(
                channel=channel,
                kind=kind,
                url=url,
                name=name,
                weight=int(settings.get("weight", 1)),
                rate=settings.get("rate"),
                concurrency=int(settings["concurrency"]) if "concurrency" in settings else None,
            )
        )
    if not providers:
        raise ConfigError(f"{variable} names no provider")
    return providers


def first_of_kind(providers: list[Provider], kind: str) -> Provider | None:
    return next((p for p in providers if p.kind == kind), None)


def _kind(channel: str, url: str, variable: str) -> tuple[str, str]:
    scheme, _, rest = url.partition("://")
    if not rest:
        raise ConfigError(f"{variable}: {url!r} is not a URL")
    prefix, plus, transport = scheme.partition("+")
    kinds = EMAIL_KINDS if channel == "email" else SMS_KINDS
    if plus and prefix in kinds and transport in ("http", "https"):
        return prefix, f"{transport}://{rest}"
    if channel == "email" and scheme in _SMTP_SCHEMES:
        return "smtp", url
    if scheme not in ("http", "https"):
        allowed = "smtp://, smtps://, smtp+starttls:// or " if channel == "email" else ""
        raise ConfigError(f"{variable} must be {allowed}an http:// or https:// URL, not {url!r}")
    known = _WELL_KNOWN_HOSTS.get((urlsplit(url).hostname or "").lower())
    if known in kinds:
        return known, url
    return ("email_generic" if channel == "email" else "sms_generic"), url


def _options(options: list[str], variable: str) -> dict[str, float]:
    settings: dict[str, float] = {}
    for option in options:
        key, _, raw = option.partition("=")
        key = key.strip().lower()
        if key not in ("weight", "rate", "concurrency"):
            raise ConfigError(f"{variable}: unknown option {key!r} (weight, rate, concurrency)")
        try:
            number = float(raw)
        except ValueError:
            raise ConfigError(f"{variable}: {key} must be a number, not {raw!r}") from None
        if number <= 0 or (key != "rate" and number != int(number)):
            raise ConfigError(f"{variable}: {key} must be a positive whole number")
        settings[key] = number
    return settings
