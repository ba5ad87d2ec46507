"""Opt-outs that land while a member's message is already built and waiting: for its
rate-limit slot at a slow provider rate (one message a second), for its retry, or in
a dead worker's claim the sweep hands back. A real worker sends; the member gets
nothing, and their delivery says why without counting an attempt."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery, Member
from commsvc.models.base import utcnow
from commsvc.services.delivery import sweeps
from tests import factories
from tests.conftest import start_worker, stop_process
from tests.e2e.test_opt_out_mid_send import one_click, reply_stop, topic_id
from tests.e2e.test_pause_resume import wait_for
from tests.e2e.test_send_bulletin import wait_until_sent

pytestmark = pytest.mark.e2e
MEMBERS = 3
SLOW = {
    "COMMSVC_SMS_RATE": "1",  # a message a second: each waits about a second for its slot
    "COMMSVC_EMAIL_RATE": "1",
    "COMMSVC_RETRY_BASE_SECONDS": "2",
}


@pytest.fixture
def env(env, monkeypatch):
    for name, value in SLOW.items():
        monkeypatch.setenv(name, value)
    return {**env, **SLOW}


@pytest.fixture
def partnership(app):
    partnership = factories.partnership()
    factories.topics()
    rows = [
        factories.member_row(
            channels="email;sms", email=f"wait{n}@example.org", mobile=f"07911 1{60000 + n:05d}"
        )
        for n in range(MEMBERS)
    ]
    assert factories.import_rows(rows).ok
    return partnership


def start(client, headers, partnership, channel: str) -> int:
    body = factories.bulletin_body(partnership.id, channels=[channel])
    created = client.post("/api/v1/bulletins", json=body, headers=headers).get_json()
    assert created["audience_size"] == MEMBERS, created
    assert (
        client.post(f"/api/v1/bulletins/{created['id']}/send", headers=headers).status_code == 202
    )
    return int(created["id"])


def in_sending_order(bulletin_id: int) -> list[tuple[Delivery, Member]]:
    """The bulletin's deliveries and members, in the order a batch sends them (by id)."""
    wait_for(lambda: len(rows_of(bulletin_id)) == MEMBERS, "the fan-out")
    return rows_of(bulletin_id)


def rows_of(bulletin_id: int) -> list[tuple[Delivery, Member]]:
    db.session.rollback()
    db.session.expire_all()
    rows = db.session.execute(
        select(Delivery, Member)
        .join(Member, Member.id == Delivery.member_id)
        .where(Delivery.bulletin_id == bulletin_id)
        .order_by(Delivery.id)
    ).all()
    return [(delivery, member) for delivery, member in rows]


def status_of(bulletin_id: int) -> str | None:
    db.session.expire_all()
    return db.session.scalar(select(Bulletin.status).where(Bulletin.id == bulletin_id))


def delivery(delivery_id: int) -> Delivery:
    db.session.expire_all()
    found = db.session.get(Delivery, delivery_id)
    assert found is not None
    return found


def test_a_stop_while_the_text_waits_for_its_slot_stops_it(partnership, client, worker, sms_sink):
    headers = factories.api_key()
    bulletin_id = start(client, headers, partnership, "sms")
    (first, first_member), (waiting, stopper), _last = in_sending_order(bulletin_id)
    # The first text has gone; the next one is built and waits about a second for its
    # token (one a second): the member replies STOP meanwhile.
    wait_for(lambda: sms_sink.messages, "the first text")
    assert [m["to"] for m in sms_sink.messages] == [first_member.mobile]
    reply_stop(client, stopper.mobile)

    final = wait_until_sent(client, headers, bulletin_id)

    received = Counter(m["to"] for m in sms_sink.messages)
    assert stopper.mobile not in received
    assert str(waiting.id) not in {m["reference"] for m in sms_sink.messages}
    assert len(received) == MEMBERS - 1 and max(received.values()) == 1
    assert final["counts"] == {"sent": MEMBERS - 1, "skipped": 1}
    withheld = delivery(waiting.id)
    assert withheld.status == "skipped" and "sms" in (withheld.last_error or "")
    assert withheld.attempts == 0  # nothing left: not counted as an attempt


def test_an_unsubscribe_while_the_email_waits_for_its_slot_stops_it(
    partnership, client, worker, email_sink
):
    headers = factories.api_key()
    bulletin_id = start(client, headers, partnership, "email")
    (_first, first_member), (waiting, leaver), _last = in_sending_order(bulletin_id)
    # SMTP builds the next email while the one before goes (Lookahead), and it then
    # waits about a second for its token: the member unsubscribes meanwhile.
    wait_for(lambda: email_sink.messages, "the first email")
    assert email_sink.messages[0][1] == [first_member.email]
    one_click(client, leaver, topic_id(bulletin_id))

    final = wait_until_sent(client, headers, bulletin_id)

    received = Counter(to for _sender, tos, _content in email_sink.messages for to in tos)
    assert leaver.email not in received
    assert len(received) == MEMBERS - 1 and max(received.values()) == 1
    assert final["counts"] == {"sent": MEMBERS - 1, "skipped": 1}
    withheld = delivery(waiting.id)
    assert withheld.status == "skipped" and "topic" in (withheld.last_error or "")
    assert withheld.attempts == 0


def test_a_stop_while_the_text_waits_for_its_retry_stops_the_retry(
    partnership, client, worker, sms_sink
):
    headers = factories.api_key()
    rows = db.session.scalars(select(Member).order_by(Member.id)).all()
    stopper = rows[-1]
    sms_sink.reject_numbers[stopper.mobile] = 503  # a temporary failure: retried later
    bulletin_id = start(client, headers, partnership, "sms")
    (*_others, (failing, _member)) = in_sending_order(bulletin_id)
    wait_for(lambda: delivery(failing.id).status == "temporary_failure", "the failure")
    assert delivery(failing.id).retry_at is not None  # a retry is on its way
    reply_stop(client, stopper.mobile)
    del sms_sink.reject_numbers[stopper.mobile]  # the retry would now get through

    final = wait_until_sent(client, headers, bulletin_id)

    assert stopper.mobile not in {m["to"] for m in sms_sink.messages}
    assert len(sms_sink.messages) == MEMBERS - 1
    assert final["counts"] == {"sent": MEMBERS - 1, "skipped": 1}
    withheld = delivery(failing.id)
    assert withheld.status == "skipped" and "sms" in (withheld.last_error or "")
    assert withheld.attempts == 1  # the one that failed; the withheld retry is not counted


def test_a_stop_while_a_dead_workers_claim_waits_for_the_sweep_stops_it(app, client, env, sms_sink):
    bulletin = factories.sending_bulletin(MEMBERS, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    # A worker took the batch and died before sending anything: its claim is past the
    # stuck timeout, waiting for beat's sweep.
    long_ago = utcnow() - timedelta(seconds=app.config["COMMSVC_STUCK_AFTER_SECONDS"] + 60)
    db.session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids))
        .values(status="sending", claimed_at=long_ago, updated_at=long_ago, attempts=1)
    )
    db.session.commit()
    stopper = db.session.get(Member, delivery(ids[1]).member_id)
    reply_stop(client, stopper.mobile)
    process = start_worker(env)
    try:
        assert sweeps.requeue_stuck() >= 1
        wait_for(lambda: status_of(bulletin.id) == "sent", "the requeued batch")
    finally:
        stop_process(process)

    assert stopper.mobile not in {m["to"] for m in sms_sink.messages}
    assert len(sms_sink.messages) == MEMBERS - 1
    withheld = delivery(ids[1])
    assert withheld.status == "skipped" and "sms" in (withheld.last_error or "")
