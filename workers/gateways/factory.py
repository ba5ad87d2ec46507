"""Building each channel's gateway from the configured providers (commsvc.providers)."""

from __future__ import annotations

from typing import Any

import requests
from flask import current_app

from commsvc import providers, redis_store
from commsvc.providers import Provider
from workers import ratelimit
from workers.gateways.http_email import GenericEmailApiGateway, PostmarkGateway
from workers.gateways.routing import Route, RoutedGateway
from workers.gateways.sms_generic import GenericSmsGateway
from workers.gateways.smtp import SmtpGateway
from workers.gateways.twilio import TwilioSmsGateway
from workers.gateways.vonage import VonageSmsGateway

_session: requests.Session | None = None
TWILIO_CALLBACK_PATH = "/webhooks/sms/twilio"
VONAGE_CALLBACK_PATH = "/webhooks/sms/vonage"


def email_gateway() -> RoutedGateway:
    return _gateway("email")


def sms_gateway() -> RoutedGateway:
    return _gateway("sms")


def adapter_for(provider: Provider) -> Any:
    """The adapter speaking this provider's wire format."""
    config = current_app.config
    timeout = float(config["COMMSVC_HTTP_TIMEOUT_SECONDS"])
    public_url = config["COMMSVC_PUBLIC_URL"]
    session = _shared_session()
    if provider.kind == "smtp":
        return SmtpGateway(provider.url, float(config["COMMSVC_SMTP_DATA_TIMEOUT_SECONDS"]))
    if provider.kind == "email_generic":
        return GenericEmailApiGateway(provider, session, timeout)
    if provider.kind == "postmark":
        return PostmarkGateway(provider, session, timeout)
    if provider.kind == "twilio":
        return TwilioSmsGateway(provider, session, public_url + TWILIO_CALLBACK_PATH, timeout)
    if provider.kind == "vonage":
        return VonageSmsGateway(provider, session, public_url + VONAGE_CALLBACK_PATH, timeout)
    return GenericSmsGateway(provider.url, session, timeout)


def _gateway(channel: str) -> RoutedGateway:
    config = current_app.config
    routes = [
        Route(
            provider,
            adapter_for(provider),
            ratelimit.Limiter(
                redis_store.client(),
                provider.name,
                rate=provider_rate(provider),
                concurrency=provider.concurrency or int(config["COMMSVC_PROVIDER_CONCURRENCY"]),
                penalty_seconds=int(config["COMMSVC_PROVIDER_PENALTY_SECONDS"]),
            ),
        )
        for provider in providers.parse(channel, config[f"COMMSVC_{channel.upper()}_URL"])
    ]
    return RoutedGateway(channel, routes)


def provider_rate(provider: Provider) -> float:
    """Messages a second this provider may take: its own `rate`, or its channel's."""
    return provider.rate or float(current_app.config[f"COMMSVC_{provider.channel.upper()}_RATE"])


def _shared_session() -> requests.Session:
    """One pooled session per worker process: connections are reused across batches."""
    global _session
    if _session is None:
        _session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16)
        _session.mount("http://", adapter)
        _session.mount("https://", adapter)
    return _session
