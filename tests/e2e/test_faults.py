"""Fault tests: real worker processes, a real Redis of their own, the SMTP and SMS sinks.

Each asserts on what the sinks received. Recovery from a killed worker or a lost
broker is the stuck sweep's job; the test runs it (as beat would) every second,
with COMMSVC_STUCK_AFTER_SECONDS set low.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
import redis
from kombu.exceptions import OperationalError
from werkzeug.serving import make_server

from commsvc import embedded_redis
from commsvc.extensions import db
from commsvc.models import Delivery
from commsvc.services.delivery import sweeps
from tests import factories
from tests.conftest import stop_process

pytestmark = pytest.mark.e2e
RUN_TIMEOUT_SECONDS = 150
FAST = {
    "COMMSVC_STUCK_AFTER_SECONDS": "3",
    "COMMSVC_EMAIL_RATE": "100000",
    "COMMSVC_SMS_RATE": "100",
    "COMMSVC_RETRY_BASE_SECONDS": "0.2",
    "COMMSVC_HTTP_TIMEOUT_SECONDS": "0.5",
    "COMMSVC_MAX_ATTEMPTS": "10",
}


class OwnRedis:
    """A redis-server for one test, which the test may kill and start again."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.process, self.url = embedded_redis.start_server(workdir)
        self.port = int(self.url.rsplit(":", 1)[1].split("/")[0])

    def restart(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        self.process, _ = embedded_redis.start_server(self.workdir, port=self.port)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    server = OwnRedis(tmp_path)
    yield server
    server.stop()


@pytest.fixture
def env(base_env, email_sink, sms_sink, own_redis, monkeypatch) -> dict[str, str]:
    values = {
        **base_env,
        **FAST,
        "COMMSVC_REDIS_URL": own_redis.url,
        "COMMSVC_EMAIL_URL": email_sink.url,
        "COMMSVC_SMS_URL": sms_sink.url,
    }
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


@contextlib.contextmanager
def worker_group(env: dict[str, str]) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Workers in their own process group (so SIGKILL reaches the pool too); stopped after."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "commsvc",
                "worker",
                "--concurrency",
                "2",
                "--loglevel",
                "error",
            ],
            env={**os.environ, **env},
            start_new_session=True,
        )
        started.append(process)
        return process

    started_first = start()
    assert started_first
    try:
        yield started
    finally:
        for process in started:
            stop_process(process)


def start_another(group: list[subprocess.Popen[bytes]], env: dict[str, str]) -> None:
    group.append(
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "commsvc",
                "worker",
                "--concurrency",
                "2",
                "--loglevel",
                "error",
            ],
            env={**os.environ, **env},
            start_new_session=True,
        )
    )


def kill_group(process: subprocess.Popen[bytes]) -> None:
    os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


def send(client: Any, headers: dict[str, str], channels: list[str]) -> int:
    partnership_id = db.session.query(factories.Partnership.id).scalar()
    created = client.post(
        "/api/v1/bulletins",
        json=factories.bulletin_body(partnership_id, channels=channels),
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    bulletin_id = created.get_json()["id"]
    assert client.post(f"/api/v1/bulletins/{bulletin_id}/send", headers=headers).status_code == 202
    return int(bulletin_id)


def run_until_sent(client: Any, headers: dict[str, str], bulletin_id: int) -> dict[str, Any]:
    """Poll the status; run the stuck sweep every second, as beat would (more often)."""
    deadline = time.monotonic() + RUN_TIMEOUT_SECONDS
    next_sweep = 0.0
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        with contextlib.suppress(redis.RedisError, OperationalError):
            status = client.get(f"/api/v1/bulletins/{bulletin_id}", headers=headers).get_json()
            if status["status"] == "sent":
                return status
            if time.monotonic() > next_sweep:
                sweeps.requeue_stuck()
                next_sweep = time.monotonic() + 1
        db.session.rollback()
        time.sleep(0.3)
    raise AssertionError(f"bulletin {bulletin_id} not sent in time: {status}")


def wait_for(condition: Any, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def email_setup(count: int) -> list[str]:
    factories.partnership()
    factories.topics()
    return factories.bulk_members(count, channels="email")


def delivery_ids_of(email_sink, recipients: set[str]) -> set[int]:
    return {
        int(message_from_bytes(content)["X-Commsvc-Delivery"])
        for _sender, to, content in list(email_sink.messages)
        if to[0] in recipients
    }


def accepted_ids() -> set[int]:
    db.session.rollback()
    return set(db.session.scalars(db.select(Delivery.id).where(Delivery.status == "sent")))


def test_worker_killed_mid_send_loses_nobody_and_resends_only_what_was_in_flight(
    app, client, env, email_sink
):
    addresses = email_setup(5000)
    email_sink.delay = 0.001  # slow enough that the kill lands mid-send
    headers = factories.api_key()
    with worker_group(env) as workers:
        bulletin_id = send(client, headers, ["email"])
        wait_for(lambda: len(email_sink.messages) >= 1500, "the first 1,500 emails")
        kill_group(workers[0])
        recorded_before_kill = accepted_ids()
        start_another(workers, env)
        status = run_until_sent(client, headers, bulletin_id)

    received = Counter(to[0] for _sender, to, _content in email_sink.messages)
    assert set(received) == set(addresses)  # every member got their email
    duplicated = {address for address, n in received.items() if n > 1}
    assert len(duplicated) <= 2  # at most one per killed pool process
    assert max(received.values()) <= 2
    # None of the duplicates had its acceptance recorded before the kill.
    assert not delivery_ids_of(email_sink, duplicated) & recorded_before_kill
    assert status["counts"] == {"sent": len(addresses)}


def test_redis_restarted_mid_send_loses_nobody_and_sends_nobody_twice(
    app, client, env, email_sink, own_redis
):
    addresses = email_setup(5000)
    email_sink.delay = 0.001
    headers = factories.api_key()
    with worker_group(env):
        bulletin_id = send(client, headers, ["email"])
        wait_for(lambda: len(email_sink.messages) >= 1500, "the first 1,500 emails")
        own_redis.restart()  # the broker's queues, the counters and the limits are gone
        status = run_until_sent(client, headers, bulletin_id)

    received = Counter(to[0] for _sender, to, _content in email_sink.messages)
    assert set(received) == set(addresses)
    assert max(received.values()) == 1  # no worker died, so nothing was in doubt
    assert status["counts"] == {"sent": len(addresses)}


def test_flaky_throttling_sms_gateway_gets_everything_through_once(app, client, env, sms_sink):
    factories.partnership()
    factories.topics()
    numbers = factories.bulk_members(200, channels="sms")
    sms_sink.fail_rate = 0.16  # 20% of requests fail: most answer 500,
    sms_sink.hang_rate = 0.04  # the others hang past the client's timeout
    sms_sink.hang_seconds = 1.0
    sms_sink.burst_limit = 20  # more than 20 in a second: 429
    headers = factories.api_key()
    with worker_group(env):
        bulletin_id = send(client, headers, ["sms"])
        status = run_until_sent(client, headers, bulletin_id)

    received = Counter(message["to"] for message in sms_sink.messages)
    assert set(received) <= set(numbers)
    assert max(received.values()) == 1
    deliveries = client.get(
        f"/api/v1/bulletins/{bulletin_id}/deliveries?per_page=500", headers=headers
    ).get_json()["items"]
    # A request that hung past the timeout may have been accepted: it is never sent
    # again (issue 12, item 5) but left as a temporary failure that says so. (On a
    # loaded machine even a text the gateway kept can be answered after the timeout.)
    sent = [d for d in deliveries if d["status"] == "sent"]
    unconfirmed = [d for d in deliveries if d["status"] != "sent"]
    assert all("outcome unknown" in d["last_error"] for d in unconfirmed)
    assert {d["provider_id"] for d in sent} <= {m["id"] for m in sms_sink.messages}
    assert len(sent) <= len(received) <= len(sent) + len(unconfirmed)
    expected = {"sent": len(sent), "temporary_failure": len(unconfirmed)}
    assert status["counts"] == {k: n for k, n in expected.items() if n}
    assert len(sent) + len(unconfirmed) == len(numbers)
    assert sms_sink.throttled > 0  # the bursts did meet 429s, and no message failed for it
    assert max(d["attempts"] for d in deliveries) <= int(FAST["COMMSVC_MAX_ATTEMPTS"])
    assert any(d["attempts"] > 1 for d in deliveries)


def test_permanent_refusals_fail_with_the_reason_and_are_never_retried(
    app, client, env, email_sink, sms_sink
):
    factories.partnership()
    factories.topics()
    report = factories.import_rows(
        [
            factories.member_row(email=f"p{n}@example.org", mobile=f"07911 29{n:04d}")
            for n in range(6)
        ]
    )
    assert report.ok, report.errors
    email_sink.reject["p0@example.org"] = "550 5.1.1 No such user"
    email_sink.reject["p1@example.org"] = "554 5.7.1 Rejected by policy"
    sms_sink.reject_numbers["+447911290002"] = 400
    headers = factories.api_key()
    with worker_group(env):
        bulletin_id = send(client, headers, ["email", "sms"])
        status = run_until_sent(client, headers, bulletin_id)

    assert sorted(email_sink.refused) == ["p0@example.org", "p1@example.org"]  # tried once
    assert sorted(str(m["To"]) for m in email_sink.parsed()) == [
        f"p{n}@example.org" for n in range(2, 6)
    ]
    assert sms_sink.requests == 6 and len(sms_sink.messages) == 5  # the refused one, once
    assert status["counts"] == {"sent": 9, "permanent_failure": 3}
    failed = client.get(
        f"/api/v1/bulletins/{bulletin_id}/deliveries?status=permanent_failure", headers=headers
    ).get_json()["items"]
    reasons = sorted(d["last_error"] for d in failed)
    assert "550 5.1.1 No such user" in reasons[0] or "550" in " ".join(reasons)
    assert any("554" in r and "Rejected by policy" in r for r in reasons)
    assert any("answered 400" in r for r in reasons)
    assert all(d["attempts"] == 1 for d in failed)


@pytest.fixture
def web_server(app) -> Iterator[str]:
    server = make_server("127.0.0.1", embedded_redis.free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def test_unknown_forged_and_replayed_receipts_change_nothing(
    app, client, env, sms_sink, web_server
):
    import json

    import requests

    from commsvc.web.webhooks import sign

    factories.partnership()
    factories.topics()
    factories.bulk_members(5, channels="sms")
    sms_sink.callback_url = f"{web_server}/webhooks/sms/status"
    sms_sink.callback_secret = env["COMMSVC_WEBHOOK_SECRET"]
    sms_sink.start_receipts()
    headers = factories.api_key()
    with worker_group(env):
        bulletin_id = send(client, headers, ["sms"])
        run_until_sent(client, headers, bulletin_id)

    def counts() -> dict[str, int]:
        db.session.rollback()
        return client.get(f"/api/v1/bulletins/{bulletin_id}", headers=headers).get_json()["counts"]

    wait_for(lambda: counts() == {"delivered": 6}, "the sink's signed receipts")
    secret = env["COMMSVC_WEBHOOK_SECRET"]

    def post(payload: dict[str, Any], signature: str | None = None) -> requests.Response:
        body = json.dumps(payload).encode()
        return requests.post(
            f"{web_server}/webhooks/sms/status",
            data=body,
            headers={
                "Content-Type": "application/json",
                "X-Signature": signature if signature is not None else sign(secret, body),
            },
            timeout=10,
        )

    first = sms_sink.messages[0]
    unknown = post({"id": "sms-999999", "reference": "999999", "status": "failed"})
    forged = post({"id": first["id"], "status": "failed"}, signature=sign("guess", b"x"))
    replayed = post({"id": first["id"], "reference": first["reference"], "status": "delivered"})
    late_failure = post({"id": first["id"], "status": "failed"})
    twilio = requests.post(
        f"{web_server}/webhooks/sms/twilio",
        data={"MessageSid": first["id"], "MessageStatus": "failed"},
        headers={"X-Twilio-Signature": "Zm9yZ2Vk"},
        timeout=10,
    )
    vonage = requests.post(
        f"{web_server}/webhooks/sms/vonage",
        data={"messageId": first["id"], "status": "failed", "sig": "0" * 64},
        timeout=10,
    )
    assert unknown.status_code == 200 and unknown.json()["changed"] is False
    assert forged.status_code == 401 and twilio.status_code == 401 and vonage.status_code == 401
    assert replayed.json()["changed"] is False and late_failure.json()["changed"] is False
    assert counts() == {"delivered": 6}
