"""Send one batch of deliveries on one channel, and count what it recorded."""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

from commsvc import metrics
from commsvc.queueing import TaskNames
from workers import sending
from workers.gateways import email_gateway, sms_gateway
from workers.gateways.base import Gateway

log = logging.getLogger(__name__)


@shared_task(name=TaskNames.SEND_EMAIL_BATCH, acks_late=True)
def send_email_batch(bulletin_id: int, delivery_ids: list[int]) -> int:
    return _send(bulletin_id, delivery_ids, "email", email_gateway())


@shared_task(name=TaskNames.SEND_SMS_BATCH, acks_late=True)
def send_sms_batch(bulletin_id: int, delivery_ids: list[int]) -> int:
    return _send(bulletin_id, delivery_ids, "sms", sms_gateway())


def _send(bulletin_id: int, delivery_ids: list[int], channel: str, gateway: Gateway[Any]) -> int:
    summary = sending.send_batch(bulletin_id, delivery_ids, channel, gateway)
    try:
        totals = metrics.count_batch(bulletin_id, channel, summary.recorded)
        log.info("batch finished", extra={"outcomes": totals})
    except Exception:  # monitoring must never fail a task
        log.exception("could not record the metrics of a batch")
    return summary.accepted
