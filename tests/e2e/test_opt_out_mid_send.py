"""Opt-outs that arrive while a bulletin is going out are honoured from then on: a real
worker sends at a slow provider rate while members reply STOP, stop everything,
unsubscribe in one click, bounce, or change their mobile to a suppressed number."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from sqlalchemy import select

from commsvc.extensions import db
from commsvc.models import Delivery, Member, Topic
from commsvc.services.members import preferences, suppression
from commsvc.web.webhooks import sign
from tests import factories
from tests.e2e.test_pause_resume import in_flight, wait_for
from tests.e2e.test_send_bulletin import wait_until_sent

pytestmark = pytest.mark.e2e
MEMBERS = 120
RATE = "15"  # messages a second: the whole send takes about eight seconds
SENT_BEFORE_OPT_OUTS = 10


@pytest.fixture
def env(env, monkeypatch):
    for name in ("COMMSVC_SMS_RATE", "COMMSVC_EMAIL_RATE"):
        monkeypatch.setenv(name, RATE)
    return {**env, "COMMSVC_SMS_RATE": RATE, "COMMSVC_EMAIL_RATE": RATE}


@pytest.fixture
def partnership(app):
    partnership = factories.partnership()
    factories.topics()
    rows = [
        factories.member_row(
            channels="email;sms", email=f"mid{n}@example.org", mobile=f"07911 1{60000 + n:05d}"
        )
        for n in range(MEMBERS)
    ]
    assert factories.import_rows(rows).ok
    return partnership


def start(client, headers, partnership, channel: str) -> int:
    body = factories.bulletin_body(partnership.id, channels=[channel])
    created = client.post("/api/v1/bulletins", json=body, headers=headers).get_json()
    assert created["audience_size"] == MEMBERS
    sent = client.post(f"/api/v1/bulletins/{created['id']}/send", headers=headers)
    assert sent.status_code == 202
    return int(created["id"])


def last_members(count: int) -> list[Member]:
    """The members whose messages go out last (deliveries are sent in id order)."""
    db.session.expire_all()
    return list(db.session.scalars(select(Member).order_by(Member.id.desc()).limit(count)))


def deliveries_of(bulletin_id: int) -> dict[int, Delivery]:
    db.session.expire_all()
    rows = db.session.scalars(select(Delivery).where(Delivery.bulletin_id == bulletin_id))
    return {d.member_id: d for d in rows}


def topic_id(bulletin_id: int) -> int:
    from commsvc.models import Bulletin

    return int(db.session.get(Bulletin, bulletin_id).topic_id)


def reply_stop(client, mobile: str) -> None:
    body = json.dumps({"from": mobile, "body": "STOP"}).encode()
    answer = client.post(
        "/webhooks/sms/inbound",
        data=body,
        headers={
            "Content-Type": "application/json",
            "X-Signature": sign("test-webhook-secret", body),
        },
    )
    assert answer.get_json()["action"] == "stop"


def stop_everything(member: Member) -> None:
    """The preference page's "stop everything", with every topic and channel left on."""
    everything = {t.id for t in db.session.scalars(select(Topic))}
    preferences.update_choices(
        member, everything, email=True, sms=True, stop_everything=True, source="preference_centre"
    )


def one_click(client, member: Member, topic: int) -> None:
    path = factories.member_links().unsubscribe_url(member.public_id, topic)
    answer = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200


def test_texts_stop_for_members_who_opt_out_mid_send(partnership, client, worker, sms_sink):
    headers = factories.api_key()
    bulletin_id = start(client, headers, partnership, "sms")
    wait_for(lambda: len(sms_sink.messages) >= SENT_BEFORE_OPT_OUTS, "the first texts")
    stopper, leaver, unsubscriber, mover, suppressed = last_members(5)
    reply_stop(client, stopper.mobile)
    stop_everything(leaver)
    one_click(client, unsubscriber, topic_id(bulletin_id))
    suppression.suppress("sms", "+447700900999", "stop")  # a number that said STOP before
    mover.mobile = "+447700900999"
    suppression.suppress("sms", suppressed.mobile, "complaint")
    db.session.commit()
    assert len(sms_sink.messages) < MEMBERS - 5, "the opt-outs came too late to test anything"

    final = wait_until_sent(client, headers, bulletin_id)

    received = Counter(m["to"] for m in sms_sink.messages)
    opted_out = {stopper.mobile, leaver.mobile, unsubscriber.mobile, suppressed.mobile}
    assert not opted_out & set(received) and "+447700900999" not in received
    assert len(received) == MEMBERS - 5 and max(received.values()) == 1
    assert final["counts"] == {"sent": MEMBERS - 5, "skipped": 3, "suppressed": 2}
    rows = deliveries_of(bulletin_id)
    assert rows[stopper.id].status == "skipped" and "sms" in rows[stopper.id].last_error
    assert rows[leaver.id].status == "skipped" and "stopped all" in rows[leaver.id].last_error
    assert rows[unsubscriber.id].status == "skipped" and "topic" in rows[unsubscriber.id].last_error
    assert rows[mover.id].status == "suppressed" and rows[suppressed.id].status == "suppressed"
    assert "suppression list" in rows[mover.id].last_error


def test_email_stops_after_a_hard_bounce_or_an_unsubscribe_mid_send(
    partnership, client, worker, email_sink
):
    headers = factories.api_key()
    bulletin_id = start(client, headers, partnership, "email")
    wait_for(lambda: len(email_sink.messages) >= SENT_BEFORE_OPT_OUTS, "the first emails")
    bounced, unsubscriber = last_members(2)
    suppression.suppress("email", bounced.email, "hard_bounce")
    db.session.commit()
    one_click(client, unsubscriber, topic_id(bulletin_id))
    assert len(email_sink.messages) < MEMBERS - 2, "the opt-outs came too late to test anything"

    final = wait_until_sent(client, headers, bulletin_id)

    recipients = Counter(to for _sender, tos, _content in email_sink.messages for to in tos)
    assert bounced.email not in recipients and unsubscriber.email not in recipients
    assert len(recipients) == MEMBERS - 2 and max(recipients.values()) == 1
    assert final["counts"] == {"sent": MEMBERS - 2, "skipped": 1, "suppressed": 1}


def test_an_opt_out_while_paused_is_honoured_after_the_resume(
    partnership, client, worker, sms_sink
):
    headers = factories.api_key()
    bulletin_id = start(client, headers, partnership, "sms")
    wait_for(lambda: len(sms_sink.messages) >= SENT_BEFORE_OPT_OUTS, "the first texts")
    assert client.post(f"/api/v1/bulletins/{bulletin_id}/pause", headers=headers).status_code == 202
    wait_for(lambda: in_flight(bulletin_id) == 0, "claimed texts to be released")
    stopper, leaver = last_members(2)
    reply_stop(client, stopper.mobile)
    stop_everything(leaver)
    assert (
        client.post(f"/api/v1/bulletins/{bulletin_id}/resume", headers=headers).status_code == 202
    )

    final = wait_until_sent(client, headers, bulletin_id)

    received = Counter(m["to"] for m in sms_sink.messages)
    assert stopper.mobile not in received and leaver.mobile not in received
    assert len(received) == MEMBERS - 2 and max(received.values()) == 1
    assert final["counts"] == {"sent": MEMBERS - 2, "skipped": 2}


def test_a_service_message_still_reaches_a_member_who_stopped_everything_mid_send(
    partnership, client, worker, sms_sink
):
    """Service topics keep audience.decide's rule: "stop everything" does not stop them."""
    factories.topics("ballot notices", kind="service")
    headers = factories.api_key()
    body = factories.bulletin_body(partnership.id, channels=["sms"], topic="ballot notices")
    created = client.post("/api/v1/bulletins", json=body, headers=headers).get_json()
    assert (
        client.post(f"/api/v1/bulletins/{created['id']}/send", headers=headers).status_code == 202
    )
    wait_for(lambda: len(sms_sink.messages) >= SENT_BEFORE_OPT_OUTS, "the first texts")
    (leaver,) = last_members(1)
    stop_everything(leaver)

    final = wait_until_sent(client, headers, created["id"])

    assert leaver.mobile in {m["to"] for m in sms_sink.messages}
    assert final["counts"] == {"sent": MEMBERS}
