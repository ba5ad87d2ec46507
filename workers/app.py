"""The worker's entry point: `celery -A workers.app worker` (or `commsvc worker`)."""

from __future__ import annotations

from commsvc import create_app

flask_app = create_app()
celery_app = flask_app.extensions["celery"]

import workers.tasks  # noqa: E402,F401  (registers the tasks with celery_app)
