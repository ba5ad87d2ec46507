"""What a real worker must do when one message cannot be built, when a retry is not
due yet, and when a bulletin is cancelled under a failing provider."""

from __future__ import annotations

import time

import pytest
import redis
from sqlalchemy import func, select, update

from commsvc import queueing
from commsvc.extensions import db
from commsvc.models import Delivery, Member
from commsvc.queueing import SEND_TASK_FOR_CHANNEL, Queues
from commsvc.services.delivery import sweeps
from tests import factories
from tests.e2e.test_pause_resume import in_flight, wait_for
from tests.e2e.test_send_bulletin import wait_until_sent

pytestmark = pytest.mark.e2e
QUIET_SECONDS = 1.5


@pytest.fixture
def env(env, monkeypatch):
    """A long backoff: no retry falls due by itself while a test runs."""
    monkeypatch.setenv("COMMSVC_RETRY_BASE_SECONDS", "60")
    return {**env, "COMMSVC_RETRY_BASE_SECONDS": "60"}


@pytest.fixture
def partnership(app):
    partnership = factories.partnership()
    factories.topics()
    return partnership


def sms_members(count: int) -> list[str]:
    rows = [
        factories.member_row(channels="sms", email="", mobile=f"07911 1{70000 + n:05d}")
        for n in range(count)
    ]
    assert factories.import_rows(rows).ok
    return [r["membership_number"] for r in rows]


def start(client, headers, partnership, **body) -> int:
    created = client.post(
        "/api/v1/bulletins",
        json=factories.bulletin_body(partnership.id, channels=["sms"], **body),
        headers=headers,
    )
    assert created.status_code == 201, created.get_json()
    bulletin_id = int(created.get_json()["id"])
    sent = client.post(f"/api/v1/bulletins/{bulletin_id}/send", headers=headers)
    assert sent.status_code == 202
    return bulletin_id


def rows_of(bulletin_id: int) -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.scalars(select(Delivery).where(Delivery.bulletin_id == bulletin_id)))


def quiet(count, what: str) -> int:
    """Wait until `count()` stops changing for a while (bounded); return it."""
    deadline = time.monotonic() + 60
    last, since = count(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = count()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= QUIET_SECONDS:
            return now
    raise AssertionError(f"{what} never settled")


def broker_empty(redis_url: str) -> bool:
    client = redis.Redis.from_url(redis_url)
    return all(client.llen(queue) == 0 for queue in (Queues.SMS, Queues.RETRY))


def test_a_member_whose_message_cannot_be_built_fails_alone_and_the_bulletin_finishes(
    partnership, client, worker, sms_sink
):
    numbers = sms_members(5)
    db.session.execute(
        update(Member).where(Member.membership_number == numbers[2]).values(first_name="")
    )
    db.session.commit()
    headers = factories.api_key()
    bulletin_id = start(
        client, headers, partnership, sms_body="Hi {{ member.first_name|first }}, the offer is out."
    )

    final = wait_until_sent(client, headers, bulletin_id)

    assert final["counts"] == {"sent": 4, "permanent_failure": 1}
    assert len(sms_sink.messages) == 4
    (failed,) = [d for d in rows_of(bulletin_id) if d.status == "permanent_failure"]
    assert "could not be built" in failed.last_error and "first item" in failed.last_error
    assert failed.retry_at is None


def test_duplicate_batch_tasks_wait_for_the_retry_to_fall_due(
    partnership, client, worker, sms_sink, redis_url
):
    sms_members(1)
    sms_sink.fail_every = 1  # the provider answers 500: a temporary failure
    headers = factories.api_key()
    bulletin_id = start(client, headers, partnership)
    wait_for(
        lambda: [d.status for d in rows_of(bulletin_id)] == ["temporary_failure"],
        "the first attempt to fail",
    )
    (row,) = rows_of(bulletin_id)
    for _ in range(3):  # a resume, a sweep and a redelivery, all at once
        queueing.enqueue(SEND_TASK_FOR_CHANNEL["sms"], bulletin_id, [row.id])
    wait_for(lambda: broker_empty(redis_url), "the duplicate tasks to be taken")
    assert quiet(lambda: sms_sink.requests, "the provider's requests") == 1
    (row,) = rows_of(bulletin_id)
    assert row.status == "temporary_failure" and row.attempts == 1 and row.retry_at is not None

    # Once it is due, the next batch task takes it.
    sms_sink.fail_every = 0
    db.session.execute(update(Delivery).where(Delivery.id == row.id).values(retry_at=func.now()))
    db.session.commit()
    queueing.enqueue(SEND_TASK_FOR_CHANNEL["sms"], bulletin_id, [row.id])
    final = wait_until_sent(client, headers, bulletin_id)
    assert final["counts"] == {"sent": 1} and len(sms_sink.messages) == 1
    assert rows_of(bulletin_id)[0].attempts == 2


def test_a_cancel_under_a_failing_provider_leaves_nothing_sending_or_waiting_to_retry(
    partnership, client, worker, sms_sink
):
    members = 60
    sms_members(members)
    sms_sink.fail_every, sms_sink.delay = 1, 0.05  # every text fails, slowly
    headers = factories.api_key()
    bulletin_id = start(client, headers, partnership)
    wait_for(lambda: sms_sink.requests >= 10, "the first attempts")
    cancelled = client.post(f"/api/v1/bulletins/{bulletin_id}/cancel", headers=headers)
    assert cancelled.get_json()["status"] == "cancelled"
    wait_for(lambda: in_flight(bulletin_id) == 0, "the batch in flight to stop")
    sweeps.start_due_bulletins()  # beat's sweep, as in production

    def left_over() -> list[str]:
        return [d.status for d in rows_of(bulletin_id) if d.status != "skipped"]

    wait_for(lambda: not left_over(), "every delivery to end skipped", timeout=20)
    status = client.get(f"/api/v1/bulletins/{bulletin_id}", headers=headers).get_json()
    assert status["status"] == "cancelled" and status["counts"] == {"skipped": members}
    assert sms_sink.messages == []
