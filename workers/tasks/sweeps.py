"""Beat's periodic sweeps: schedules that are due, deliveries that got stuck, member
uploads nobody confirmed."""

from __future__ import annotations

from celery import shared_task
from flask import current_app

from commsvc.queueing import TaskNames
from commsvc.services.delivery import sweeps
from commsvc.services.members import uploads


@shared_task(name=TaskNames.SWEEP_SCHEDULED, acks_late=True)
def sweep_scheduled_bulletins() -> int:
    return sweeps.start_due_bulletins()


@shared_task(name=TaskNames.SWEEP_STUCK, acks_late=True)
def sweep_stuck_deliveries() -> int:
    return sweeps.requeue_stuck()


@shared_task(name=TaskNames.SWEEP_UPLOADS, acks_late=True)
def sweep_stale_uploads() -> int:
    return uploads.remove_stale(uploads.folder_of(current_app.instance_path))
