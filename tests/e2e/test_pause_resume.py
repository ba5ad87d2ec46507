"""Pause, resume and cancel with a real worker: sends stop, and nobody is missed or
sent to twice."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from commsvc.extensions import db
from commsvc.models import Delivery, Member
from tests import factories
from tests.e2e.test_send_bulletin import wait_until_sent

pytestmark = pytest.mark.e2e
MEMBERS = 1000
WAIT_SECONDS = 60


def wait_for(condition, what: str, timeout: float = WAIT_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def settled_count(sink_messages, quiet_seconds: float = 1.5) -> int:
    """Wait until the sink has received nothing new for a while; return its count."""
    deadline = time.monotonic() + WAIT_SECONDS
    last, since = len(sink_messages), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = len(sink_messages)
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= quiet_seconds:
            return now
    raise AssertionError("the sink never went quiet")


def in_flight(bulletin_id: int) -> int:
    db.session.expire_all()
    return Delivery.query.filter_by(bulletin_id=bulletin_id, status="sending").count()


@pytest.fixture
def env(env, monkeypatch):
    """The default SMS rate (30 a second) would make the resumed half take half a minute;
    the sink's own delay keeps the send slow enough for a pause to land mid-way."""
    monkeypatch.setenv("COMMSVC_SMS_RATE", "200")
    return {**env, "COMMSVC_SMS_RATE": "200"}


@pytest.fixture
def audience(app):
    partnership = factories.partnership()
    factories.topics()
    rows = [
        factories.member_row(channels="sms", email="", mobile=f"07911 {150000 + n:06d}")
        for n in range(MEMBERS)
    ]
    assert factories.import_rows(rows).ok
    return partnership


def start(client, headers, partnership) -> int:
    body = factories.bulletin_body(partnership.id, channels=["sms"])
    created = client.post("/api/v1/bulletins", json=body, headers=headers).get_json()
    assert created["audience_size"] == MEMBERS
    sent = client.post(f"/api/v1/bulletins/{created['id']}/send", headers=headers)
    assert sent.status_code == 202
    return created["id"]


def test_pause_stops_sends_and_resume_sends_to_each_remaining_member_once(
    audience, client, worker, sms_sink
):
    sms_sink.delay = 0.01  # slow enough that a pause lands mid-send
    headers = factories.api_key()
    bulletin_id = start(client, headers, audience)
    wait_for(lambda: len(sms_sink.messages) >= 100, "the first hundred texts")

    paused = client.post(f"/api/v1/bulletins/{bulletin_id}/pause", headers=headers)
    assert paused.status_code == 202 and paused.get_json()["status"] == "paused"
    at_pause = settled_count(sms_sink.messages)
    wait_for(lambda: in_flight(bulletin_id) == 0, "claimed texts to be released")
    assert at_pause < MEMBERS, "the pause came too late to test anything"
    time.sleep(2)  # a paused bulletin stays quiet
    assert len(sms_sink.messages) == at_pause
    status = client.get(f"/api/v1/bulletins/{bulletin_id}", headers=headers).get_json()
    assert status["status"] == "paused"
    assert status["counts"]["sent"] == at_pause
    assert status["counts"]["queued"] == MEMBERS - at_pause

    resumed = client.post(f"/api/v1/bulletins/{bulletin_id}/resume", headers=headers)
    assert resumed.status_code == 202
    final = wait_until_sent(client, headers, bulletin_id)

    received = Counter(message["to"] for message in sms_sink.messages)
    expected = {m.mobile for m in Member.query}
    assert set(received) == expected  # nobody missed
    assert max(received.values()) == 1  # nobody twice
    assert final["counts"] == {"sent": MEMBERS}
    moves = [(h["from"], h["to"]) for h in final["history"]]
    assert moves == [
        ("draft", "sending"),
        ("sending", "paused"),
        ("paused", "sending"),
        ("sending", "sent"),
    ]


def test_cancel_stops_sending_and_the_rest_are_skipped(audience, client, worker, sms_sink):
    sms_sink.delay = 0.01
    headers = factories.api_key()
    bulletin_id = start(client, headers, audience)
    wait_for(lambda: len(sms_sink.messages) >= 50, "the first texts")
    client.post(f"/api/v1/bulletins/{bulletin_id}/pause", headers=headers)
    wait_for(lambda: in_flight(bulletin_id) == 0, "claimed texts to be released")
    cancelled = client.post(f"/api/v1/bulletins/{bulletin_id}/cancel", headers=headers)
    assert cancelled.get_json()["status"] == "cancelled"
    sent = settled_count(sms_sink.messages)
    time.sleep(2)
    assert len(sms_sink.messages) == sent < MEMBERS
    status = client.get(f"/api/v1/bulletins/{bulletin_id}", headers=headers).get_json()
    assert status["counts"] == {"sent": sent, "skipped": MEMBERS - sent}
    assert len({m["to"] for m in sms_sink.messages}) == sent


def test_cancel_mid_send_ends_with_everyone_sent_or_skipped(audience, client, worker, sms_sink):
    from commsvc.services.delivery import sweeps

    sms_sink.delay = 0.01
    headers = factories.api_key()
    bulletin_id = start(client, headers, audience)
    wait_for(lambda: len(sms_sink.messages) >= 50, "the first texts")
    cancelled = client.post(f"/api/v1/bulletins/{bulletin_id}/cancel", headers=headers)
    assert cancelled.get_json()["status"] == "cancelled"
    sent = settled_count(sms_sink.messages)
    wait_for(lambda: in_flight(bulletin_id) == 0, "the batch in flight to stop")
    sweeps.start_due_bulletins()  # beat's sweep: what the batch gave back becomes skipped
    status = client.get(f"/api/v1/bulletins/{bulletin_id}", headers=headers).get_json()
    assert status["counts"] == {"sent": sent, "skipped": MEMBERS - sent}
    assert sent < MEMBERS and len({m["to"] for m in sms_sink.messages}) == sent
