"""Adapters to email and SMS providers behind one interface (see `base`).

Gateways speak to the outside world and never touch the database.
"""

from __future__ import annotations

from workers.gateways.base import Gateway, Outcome, Result, SmsMessage
from workers.gateways.factory import email_gateway, sms_gateway

__all__ = ["Gateway", "Outcome", "Result", "SmsMessage", "email_gateway", "sms_gateway"]
