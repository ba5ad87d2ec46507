"""Quick recovery with real workers (issue 12, items 2 and 15).

A fan-out lost with Redis, and a SIGKILLed worker's claims, come back through beat's
sweep (run here every second, as beat would, by `run_until_sent`) long before the
stuck sweep's timeout, which these tests set far out of reach (600 s).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from collections import Counter

import pytest

from commsvc import liveness, metrics
from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery
from tests import factories
from tests.e2e import test_faults as faults
from tests.e2e.test_faults import (
    delivery_ids_of,
    email_setup,
    kill_group,
    run_until_sent,
    send,
    start_another,
    wait_for,
    worker_group,
)

pytestmark = pytest.mark.e2e
env = faults.env  # the fault tests' own Redis, fast settings and sinks
own_redis = faults.own_redis


@pytest.fixture
def slow_stuck_sweep(env, monkeypatch):
    """Only the quick recovery can help: the stuck sweep would wait ten minutes."""
    values = {
        "COMMSVC_STUCK_AFTER_SECONDS": "600",
        "COMMSVC_FANOUT_LOST_AFTER_SECONDS": "3",
        "COMMSVC_WORKER_DEAD_AFTER_SECONDS": "15",
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    env.update(values)
    return env


def test_a_fan_out_lost_with_redis_is_queued_again_and_the_bulletin_completes(
    app, client, slow_stuck_sweep, email_sink, own_redis
):
    app.config["COMMSVC_STUCK_AFTER_SECONDS"] = 600
    app.config["COMMSVC_FANOUT_LOST_AFTER_SECONDS"] = 3
    addresses = email_setup(300)
    headers = factories.api_key()
    bulletin_id = send(client, headers, ["email"])  # no worker yet: the fan-out waits in Redis
    own_redis.restart()  # ... and is lost with it
    db.session.rollback()
    bulletin = db.session.get(Bulletin, bulletin_id)
    assert bulletin is not None and bulletin.status == "sending"
    assert bulletin.fanned_out_at is None
    with worker_group(slow_stuck_sweep):
        status = run_until_sent(client, headers, bulletin_id)

    received = Counter(to[0] for _sender, to, _content in email_sink.messages)
    assert set(received) == set(addresses) and max(received.values()) == 1
    assert status["counts"] == {"sent": len(addresses)}


def test_a_killed_workers_claims_come_back_without_waiting_for_the_stuck_sweep(
    app, client, slow_stuck_sweep, email_sink
):
    app.config["COMMSVC_STUCK_AFTER_SECONDS"] = 600
    app.config["COMMSVC_WORKER_DEAD_AFTER_SECONDS"] = 15
    addresses = email_setup(3000)
    email_sink.delay = 0.002  # slow enough that the kill lands mid-send
    headers = factories.api_key()
    with worker_group(slow_stuck_sweep) as workers:
        bulletin_id = send(client, headers, ["email"])
        wait_for(lambda: len(email_sink.messages) >= 300, "the first 300 emails")
        db.session.rollback()
        holders = {
            liveness.holder_of(token)
            for token in db.session.scalars(
                db.select(Delivery.claimed_by).where(Delivery.status == "sending")
            )
            if token
        }
        # The claims name the worker whose heartbeat beat's sweep will look for.
        assert holders and holders <= set(metrics.alive_workers())
        kill_group(workers[0])
        start_another(workers, slow_stuck_sweep)
        status = run_until_sent(client, headers, bulletin_id)

    received = Counter(to[0] for _sender, to, _content in email_sink.messages)
    assert set(received) == set(addresses)  # every member got their email
    duplicated = {address for address, n in received.items() if n > 1}
    assert len(duplicated) <= 2  # at most the message in flight in each pool process
    assert max(received.values()) <= 2
    assert status["counts"] == {"sent": len(addresses)}
    assert delivery_ids_of(email_sink, duplicated) <= set(
        db.session.scalars(db.select(Delivery.id).where(Delivery.status == "sent"))
    )


def test_a_frozen_worker_that_comes_back_sends_and_records_nothing_that_was_taken(
    app, client, slow_stuck_sweep, email_sink
):
    """SIGSTOP looks like death to beat (no heartbeat); after SIGCONT the old worker finds
    its claims taken (the claim token fences them) and sends nothing more of them."""
    app.config["COMMSVC_STUCK_AFTER_SECONDS"] = 600
    app.config["COMMSVC_WORKER_DEAD_AFTER_SECONDS"] = 15
    addresses = email_setup(3000)
    email_sink.delay = 0.002
    headers = factories.api_key()
    with worker_group(slow_stuck_sweep) as workers:
        bulletin_id = send(client, headers, ["email"])
        wait_for(lambda: len(email_sink.messages) >= 300, "the first 300 emails")
        frozen = workers[0]
        freeze_outside_a_write(frozen, slow_stuck_sweep["COMMSVC_DATABASE_URL"])
        try:
            start_another(workers, slow_stuck_sweep)
            status = run_until_sent(client, headers, bulletin_id)
            finished_with = len(email_sink.messages)
        finally:
            os.killpg(frozen.pid, signal.SIGCONT)
        wait_quiet(email_sink)

    received = Counter(to[0] for _sender, to, _content in email_sink.messages)
    assert set(received) == set(addresses)
    assert max(received.values()) <= 2
    # After it came back, the old worker sent at most what it had in flight (one per pool
    # process), nothing it had claimed but not yet started.
    assert len(email_sink.messages) - finished_with <= 2
    assert sum(n - 1 for n in received.values()) <= 2
    db.session.rollback()
    after = client.get(f"/api/v1/bulletins/{bulletin_id}", headers=headers).get_json()
    assert status["counts"] == after["counts"] == {"sent": len(addresses)}


def freeze_outside_a_write(worker: subprocess.Popen[bytes], database_url: str) -> None:
    """SIGSTOP the worker's process group at a moment it holds no SQLite write lock.

    SQLite has one writer: a process frozen inside its write (an acceptance's autocommit
    holds the lock for a fraction of a millisecond) keeps every other writer, beat's sweep
    included, waiting until it resumes, and no recovery can change that. What this test is
    about is the worker frozen between writes. On PostgreSQL a frozen writer holds only its
    own rows, and the sweeps step around those (commsvc/services/delivery/lock_waits.py).
    """
    path = database_url.removeprefix("sqlite:///") if database_url.startswith("sqlite") else None
    for _attempt in range(50):
        os.killpg(worker.pid, signal.SIGSTOP)
        if path is None or _writable(path):
            return
        os.killpg(worker.pid, signal.SIGCONT)
        time.sleep(0.01)
    raise AssertionError("the worker held SQLite's write lock at every one of 50 tries")


def _writable(path: str) -> bool:
    """Whether another process could write to the SQLite file now."""
    connection = sqlite3.connect(path, timeout=0.2, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        connection.close()


def wait_quiet(email_sink, quiet_seconds: float = 5, timeout: float = 60) -> None:
    """Until the sink has received nothing new for a few seconds (bounded)."""
    deadline = time.monotonic() + timeout
    seen, since = len(email_sink.messages), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet_seconds:
        time.sleep(0.2)
        if len(email_sink.messages) != seen:
            seen, since = len(email_sink.messages), time.monotonic()
