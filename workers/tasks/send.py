"""Send one batch of deliveries on one channel."""

from __future__ import annotations

from celery import shared_task

from commsvc.queueing import TaskNames
from workers import sending
from workers.gateways import email_gateway, sms_gateway


@shared_task(name=TaskNames.SEND_EMAIL_BATCH, acks_late=True)
def send_email_batch(bulletin_id: int, delivery_ids: list[int]) -> int:
    return sending.send_batch(bulletin_id, delivery_ids, "email", email_gateway()).accepted


@shared_task(name=TaskNames.SEND_SMS_BATCH, acks_late=True)
def send_sms_batch(bulletin_id: int, delivery_ids: list[int]) -> int:
    return sending.send_batch(bulletin_id, delivery_ids, "sms", sms_gateway()).accepted
