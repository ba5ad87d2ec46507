"""JSON logs: one object per line, carrying the bulletin and delivery ids in hand.

Ids are bound to the current context (a web request for a bulletin, a Celery task for
a batch) and every record logged meanwhile carries them, so one search finds all that
happened to a bulletin or a delivery across the web app and every worker. A record may
also pass its own ids: `log.info("...", extra={"delivery_id": 7})`.

COMMSVC_LOG_FORMAT=text keeps Python's plain format (for a person at a terminal).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from flask import Flask, request

# Attributes every LogRecord has; anything else came in through `extra` and is logged.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
_bound: ContextVar[dict[str, Any] | None] = ContextVar("commsvc_log_ids", default=None)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
        }
        entry.update(_bound.get() or {})
        for name, value in vars(record).items():
            if name not in _STANDARD and value is not None:
                entry[name] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def init_app(app: Flask) -> None:
    configure()

    @app.before_request
    def _bind_request_ids() -> None:
        bulletin_id = (request.view_args or {}).get("bulletin_id")
        if bulletin_id is None:
            bulletin_id = (request.view_args or {}).get("id")
        _bound.set({"bulletin_id": bulletin_id} if isinstance(bulletin_id, int) else {})


def configure(level: int | str = logging.INFO) -> None:
    """Give the root logger one JSON handler, unless someone configured logging already."""
    root = logging.getLogger()
    if root.handlers or os.environ.get("COMMSVC_LOG_FORMAT", "json").lower() == "text":
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level)


@contextmanager
def bound(**ids: Any) -> Iterator[None]:
    """Bind ids to every record logged inside the block."""
    token = _bound.set({**(_bound.get() or {}), **ids})
    try:
        yield
    finally:
        _bound.reset(token)


def bind(**ids: Any) -> None:
    """Bind ids until the next `bind` or `clear` (Celery tasks: prerun binds, postrun clears)."""
    _bound.set({**(_bound.get() or {}), **ids})


def clear() -> None:
    _bound.set({})
