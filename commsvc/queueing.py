"""The Celery app bound to the Flask config: queues, routes, reliability settings.

The web app enqueues work by task name from here and never imports `workers/`.

Reliability, in one place (each setting is chosen, not defaulted):
- `task_acks_late` + `task_reject_on_worker_lost`: a task is acknowledged only after
  it ran, and a task whose worker process died is not acknowledged either, so a
  killed worker's batch is delivered again. That is safe because every delivery is
  claimed with a conditional UPDATE (`services.sending.claim`), the claim is renewed
  as the batch goes and checked before each message, and each acceptance is committed
  before the next message leaves: a redelivered batch finds nothing left to send but
  what was never accepted. At most the one message in flight at the crash is in doubt.
- `worker_prefetch_multiplier = 2`: a worker process reserves one batch beyond the one
  it runs (with late acknowledgement the running one counts as reserved), so the next
  batch starts the moment one ends, not after a round trip to the broker (about 10 ms a
  batch with 1), while a killed worker still strands little and batches still spread
  across machines.
- `visibility_timeout` (VISIBILITY_TIMEOUT_SECONDS): how long Redis waits before
  handing an unacknowledged task to another worker. Countdowns (retries, throttled
  messages) are capped at MAX_COUNTDOWN_SECONDS, far below it, because this broker
  would hand a longer ETA task to a second worker; schedules are swept from the
  database by beat rather than set as ETAs.
- Retries go to their own `retry` queue, so a backlog of retries never delays a fresh
  bulletin's batches; fan-out, email, SMS and sweeps have their own queues too.
- Nothing depends on the broker keeping a task: the stuck sweep (beat, every 15 s)
  re-queues deliveries left `queued` or `sending`, and retries left due, past
  COMMSVC_STUCK_AFTER_SECONDS; a fan-out lost before it ran after
  COMMSVC_FANOUT_LOST_AFTER_SECONDS; and the claims of a worker whose heartbeat stopped
  after COMMSVC_WORKER_DEAD_AFTER_SECONDS (services/delivery/recovery.py). A restarted
  Redis (queues, unacknowledged tasks and countdowns lost) or a task lost until its
  visibility timeout is recovered from the database, which is the truth.
- Receipts are applied synchronously by the webhook (one conditional UPDATE each);
  the `receipts` queue is reserved for when they need to be queued.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import Celery, Task
from flask import Flask, current_app

VISIBILITY_TIMEOUT_SECONDS = 3600
MAX_COUNTDOWN_SECONDS = 600
# How often beat sweeps: often enough that a dead worker's claims and a lost fan-out
# come back about a minute after the fact (COMMSVC_WORKER_DEAD_AFTER_SECONDS and
# COMMSVC_FANOUT_LOST_AFTER_SECONDS, 60 s by default, plus at most this).
STUCK_SWEEP_SECONDS = 15.0
UPLOAD_SWEEP_SECONDS = 3600.0  # unconfirmed member uploads go once a day old


class Queues:
    FANOUT = "fanout"
    EMAIL = "email"
    SMS = "sms"
    RETRY = "retry"
    RECEIPTS = "receipts"
    SWEEPS = "sweeps"
    ALL = (FANOUT, EMAIL, SMS, RETRY, RECEIPTS, SWEEPS)


class TaskNames:
    FANOUT_BULLETIN = "commsvc.fanout_bulletin"
    SEND_EMAIL_BATCH = "commsvc.send_email_batch"
    SEND_SMS_BATCH = "commsvc.send_sms_batch"
    SWEEP_STUCK = "commsvc.sweep_stuck_deliveries"
    SWEEP_SCHEDULED = "commsvc.sweep_scheduled_bulletins"
    SWEEP_UPLOADS = "commsvc.sweep_stale_uploads"
    SEND_TEST_MESSAGE = "commsvc.send_test_message"


ROUTES = {
    TaskNames.FANOUT_BULLETIN: {"queue": Queues.FANOUT},
    TaskNames.SEND_EMAIL_BATCH: {"queue": Queues.EMAIL},
    TaskNames.SEND_SMS_BATCH: {"queue": Queues.SMS},
    TaskNames.SWEEP_STUCK: {"queue": Queues.SWEEPS},
    TaskNames.SWEEP_SCHEDULED: {"queue": Queues.SWEEPS},
    TaskNames.SWEEP_UPLOADS: {"queue": Queues.SWEEPS},
}

SEND_TASK_FOR_CHANNEL = {"email": TaskNames.SEND_EMAIL_BATCH, "sms": TaskNames.SEND_SMS_BATCH}
QUEUE_FOR_CHANNEL = {c: ROUTES[task]["queue"] for c, task in SEND_TASK_FOR_CHANNEL.items()}


def celery_init_app(app: Flask) -> Celery:
    """Configure Celery from the Flask config; every task runs inside the app context."""

    class FlaskTask(Task):
        def __call__(self, *args: Any, **kwargs: Any) -> Any:
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    redis_url = app.config["COMMSVC_REDIS_URL"]
    celery_app.conf.update(
        broker_url=redis_url,
        result_backend=None,
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=2,
        task_routes=ROUTES,
        task_default_queue=Queues.FANOUT,
        broker_transport_options={
            "visibility_timeout": VISIBILITY_TIMEOUT_SECONDS,
            "socket_timeout": 10,
            "socket_connect_timeout": 5,
        },
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        include=["workers.tasks"],
        beat_schedule={
            "sweep-stuck-deliveries": {
                "task": TaskNames.SWEEP_STUCK,
                "schedule": STUCK_SWEEP_SECONDS,
            },
            "sweep-scheduled-bulletins": {
                "task": TaskNames.SWEEP_SCHEDULED,
                "schedule": float(app.config["COMMSVC_SCHEDULE_SWEEP_SECONDS"]),
            },
            "sweep-stale-uploads": {
                "task": TaskNames.SWEEP_UPLOADS,
                "schedule": UPLOAD_SWEEP_SECONDS,
            },
        },
        timezone="UTC",
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def enqueue(
    task_name: str, *args: Any, countdown: float | None = None, queue: str | None = None
) -> None:
    """Send a task by name; the web app and services never import the task functions."""
    celery_app: Celery = current_app.extensions["celery"]
    if countdown is not None:
        countdown = min(countdown, MAX_COUNTDOWN_SECONDS)
    celery_app.send_task(
        task_name,
        args=list(args),
        countdown=countdown,
        queue=queue,
        argsrepr=_short_repr(args),
        ignore_result=True,  # no result backend: spares loading one on the first send
    )


def enqueue_each(task_name: str, arguments: Sequence[tuple[Any, ...]]) -> None:
    """Send one task per argument tuple over one producer (one broker connection), as
    fan-out does with the batches of a chunk: cheaper than `enqueue` per task."""
    if not arguments:
        return
    celery_app: Celery = current_app.extensions["celery"]
    with celery_app.producer_or_acquire() as producer:
        for args in arguments:
            celery_app.send_task(
                task_name,
                args=list(args),
                producer=producer,
                argsrepr=_short_repr(args),
                ignore_result=True,
            )


def _short_repr(args: Sequence[Any]) -> str:
    """The arguments as logs show them: a batch's ids as a count. Celery would otherwise
    write a repr of up to a kilobyte per task, at half the cost of sending it."""
    shown = [f"[{len(a)} ids]" if isinstance(a, list) else repr(a) for a in args]
    return f"({', '.join(shown)})"


def backlog(queue: str) -> int:
    """How many tasks wait in a queue, not yet taken by a worker (0 when the broker
    cannot say: the caller then acts as if nothing waits, which is the safe side)."""
    celery_app: Celery = current_app.extensions["celery"]
    try:
        with celery_app.connection_for_read() as connection:
            declared = connection.default_channel.queue_declare(queue=queue, passive=True)
            return int(declared.message_count)
    except Exception:  # noqa: BLE001 (an empty Redis list does not exist: "not found")
        return 0
