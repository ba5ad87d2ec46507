"""Beat's sweeps never queue behind a row that another session holds.

A worker frozen or cut off between an UPDATE and its COMMIT keeps that row's lock until
its connection dies, which with default TCP keepalives can be hours. A sweep waiting for
it would hold a worker process all that time, and the next sweep another, until one lost
host had stalled every worker. So inside `bounded()` a statement waits at most
LOCK_WAIT_MS for a row lock on PostgreSQL (SQLite's busy timeout bounds the wait there),
and `skipped_if_locked` lets the sweep go on with the rest of its work: what it could not
touch is tried again at the next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from commsvc.extensions import db

log = logging.getLogger(__name__)
LOCK_WAIT_MS = 5000
_LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's SQLSTATE for a lock_timeout


@contextmanager
def bounded() -> Iterator[None]:
    """Every transaction the session begins inside waits at most LOCK_WAIT_MS for a lock."""
    if db.engine.dialect.name != "postgresql":
        yield
        return
    session = db.session()

    def limit(_session: Any, _transaction: Any, connection: Any) -> None:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {LOCK_WAIT_MS}")

    if session.in_transaction():
        limit(session, None, session.connection())
    event.listen(session, "after_begin", limit)
    try:
        yield
    finally:
        event.remove(session, "after_begin", limit)


@contextmanager
def skipped_if_locked(what: str) -> Iterator[None]:
    """Roll back and go on when `what` ran into a lock held past the bound."""
    try:
        yield
    except OperationalError as error:
        if not _is_lock_wait(error):
            raise
        db.session.rollback()
        log.warning(
            "%s: skipped, its rows are held by a session that does not finish (a worker "
            "frozen or cut off mid-transaction); the next sweep tries again",
            what,
        )


def _is_lock_wait(error: OperationalError) -> bool:
    code = getattr(error.orig, "sqlstate", None) or getattr(error.orig, "pgcode", None)
    return code == _LOCK_NOT_AVAILABLE or "database is locked" in str(error.orig)
