"""Beat's periodic sweeps: schedules that are due, deliveries that got stuck."""

from __future__ import annotations

from celery import shared_task

from commsvc.queueing import TaskNames
from commsvc.services.delivery import sweeps


@shared_task(name=TaskNames.SWEEP_SCHEDULED, acks_late=True)
def sweep_scheduled_bulletins() -> int:
    return sweeps.start_due_bulletins()


@shared_task(name=TaskNames.SWEEP_STUCK, acks_late=True)
def sweep_stuck_deliveries() -> int:
    return sweeps.requeue_stuck()
