"""Recording each gateway acceptance during a batch, one commit per message.

The promise is that a crash can resend at most the one message in flight, so an
acceptance must be committed before the next message can be accepted. On
PostgreSQL the UPDATE for message N is sent without waiting; the gateway calls
`settle` just before the provider could accept message N+1 (for SMTP, after the 354
reply to N+1's MAIL, RCPT and DATA), so the database round trip overlaps the
provider's. If the worker dies in between, N is the one message in doubt and N+1 was
never accepted.

The commit is asynchronous (`synchronous_commit = off` for this connection only):
visible to every other session at once and safe from a killed worker or a lost
Redis, which is what the promise is about. Only a crash of the database server
itself within its WAL writer delay (a fraction of a second) could forget an
acceptance; that delivery comes back as `sending` and the stuck sweep resends it.
Waiting for the disk on every message would cost more than the send itself.

The statement goes straight to libpq (prepared once per batch) because the driver's
own execute costs more per message than the database does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import pq

from commsvc.extensions import db
from commsvc.models import Delivery
from commsvc.models.base import utcnow
from commsvc.services.delivery import claims
from commsvc.statuses import DeliveryStatus

_STATEMENT = b"commsvc_record_accepted"
_SQL = (  # built from constants only
    f"UPDATE {Delivery.__tablename__} SET status = '{DeliveryStatus.SENT}',"  # noqa: S608
    " provider = $2, provider_id = $3, sent_at = $4, updated_at = $4,"
    " retry_at = NULL, last_error = NULL"
    f" WHERE id = $1 AND status = '{DeliveryStatus.SENDING}'"
    " AND ($5::varchar IS NULL OR claimed_by = $5::varchar)"  # the claim's token
).encode()


class RecordingError(RuntimeError):
    """An acceptance could not be committed: the batch must stop sending."""


class AcceptanceRecorder:
    def __init__(self, token: str | None = None) -> None:
        self._token = token  # the batch's claim: nothing is recorded once it was taken back
        self._connection = db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self._driver: Any = None  # the psycopg connection, on PostgreSQL
        self._pending: int | None = None  # the delivery whose commit is on its way
        if db.engine.dialect.name == "postgresql":
            self._driver = self._connection.connection.dbapi_connection
            self._driver.execute("SET synchronous_commit TO off")
            _check(self._driver.pgconn.prepare(_STATEMENT, _SQL), "prepare")

    def record(self, delivery_id: int, provider: str, provider_id: str | None) -> datetime:
        """Send this acceptance's commit; the next `settle` (or `close`) waits for it.
        Returns the time it records as `sent_at`."""
        now = utcnow()
        if self._driver is None:  # SQLite: commit here and now
            claims.record_accepted_on(
                self._connection, delivery_id, provider, provider_id, self._token, now=now
            )
            return now
        self.settle()
        params = [
            str(delivery_id).encode(),
            provider.encode(),
            provider_id.encode() if provider_id is not None else None,
            now.isoformat(" ").encode(),
            self._token.encode() if self._token is not None else None,
        ]
        self._driver.pgconn.send_query_prepared(_STATEMENT, params)
        self._pending = delivery_id
        return now

    def settle(self) -> None:
        """Wait for the last acceptance's commit; raise RecordingError if it failed."""
        if self._pending is None:
            return
        delivery_id, self._pending = self._pending, None
        failure = None
        while (result := self._driver.pgconn.get_result()) is not None:
            if result.status != pq.ExecStatus.COMMAND_OK:
                failure = result.error_message.decode(errors="replace").strip()
        if failure is not None:
            raise RecordingError(f"could not record delivery {delivery_id} as sent: {failure}")

    def close(self) -> None:
        """Settle, and hand the connection back to the pool as it was lent."""
        try:
            self.settle()
            if self._driver is not None:
                self._driver.execute(f"DEALLOCATE {_STATEMENT.decode()}")
                self._driver.execute("RESET synchronous_commit")
        finally:
            self._connection.close()


def _check(result: Any, what: str) -> None:
    if result.status != pq.ExecStatus.COMMAND_OK:
        message = result.error_message.decode(errors="replace").strip()
        raise RecordingError(f"could not {what} the acceptance statement: {message}")
