"""Choosing the gateway for a channel from the configured URL."""

from __future__ import annotations

import requests
from flask import current_app

from workers.gateways.sms_generic import GenericSmsGateway
from workers.gateways.smtp import SmtpGateway

_session: requests.Session | None = None


def email_gateway() -> SmtpGateway:
    url = current_app.config["COMMSVC_EMAIL_URL"]
    if url.startswith("smtp"):
        return SmtpGateway(url)
    raise NotImplementedError("HTTP email APIs are not supported yet; use an smtp:// URL")


def sms_gateway() -> GenericSmsGateway:
    return GenericSmsGateway(current_app.config["COMMSVC_SMS_URL"], _shared_session())


def _shared_session() -> requests.Session:
    """One pooled session per worker process: connections are reused across batches."""
    global _session
    if _session is None:
        _session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=16)
        _session.mount("http://", adapter)
        _session.mount("https://", adapter)
    return _session
