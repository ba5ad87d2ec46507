"""Turn a bulletin into delivery rows and batch tasks."""

from __future__ import annotations

from celery import shared_task

from commsvc.queueing import TaskNames
from commsvc.services.delivery import fanout


@shared_task(name=TaskNames.FANOUT_BULLETIN, acks_late=True)
def fanout_bulletin(bulletin_id: int) -> int:
    return fanout.fan_out(bulletin_id)
