"""Celery tasks, split by concern; each is a thin, named, idempotent shell."""

from workers.tasks import fanout, send, sweeps, trial_send

__all__ = ["fanout", "send", "sweeps", "trial_send"]
