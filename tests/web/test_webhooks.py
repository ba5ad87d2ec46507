"""Gateway callbacks: signed, idempotent, forward-only; forged ones change nothing."""

from __future__ import annotations

import json

import pytest

from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery, Member, Suppression
from commsvc.web.webhooks import sign
from tests import factories

SECRET = "test-webhook-secret"


def post(client, path, payload, secret=SECRET, signature=None):
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Signature": signature if signature is not None else sign(secret, body),
    }
    return client.post(path, data=body, headers=headers)


@pytest.fixture
def sent_sms(app):
    partnership = factories.partnership()
    factories.topics()
    factories.import_rows([factories.member_row(mobile="07911 777001")])
    member = db.session.query(Member).one()
    bulletin = Bulletin(
        partnership_id=partnership.id,
        topic_id=1,
        title="t",
        channels=["sms"],
        sms_body="x",
        status="sending",
    )
    db.session.add(bulletin)
    db.session.flush()
    delivery = Delivery(
        bulletin_id=bulletin.id,
        member_id=member.id,
        channel="sms",
        status="sent",
        provider_id="prov-1",
    )
    db.session.add(delivery)
    db.session.commit()
    return delivery


def test_signed_receipt_moves_delivery_to_delivered(client, sent_sms):
    response = post(
        client,
        "/webhooks/sms/status",
        {"id": "prov-1", "reference": str(sent_sms.id), "status": "delivered"},
    )
    assert response.status_code == 200
    db.session.refresh(sent_sms)
    assert sent_sms.status == "delivered"


@pytest.mark.parametrize("signature", ["", "0" * 64, "not-hex"])
def test_forged_or_missing_signature_gets_401_and_changes_nothing(client, sent_sms, signature):
    response = post(
        client, "/webhooks/sms/status", {"id": "prov-1", "status": "delivered"}, signature=signature
    )
    assert response.status_code == 401
    db.session.refresh(sent_sms)
    assert sent_sms.status == "sent"


def test_receipt_signed_with_another_secret_is_refused(client, sent_sms):
    response = post(
        client,
        "/webhooks/sms/status",
        {"id": "prov-1", "status": "delivered"},
        secret="someone-else",
    )
    assert response.status_code == 401


def test_late_failure_never_overwrites_delivered_and_replays_change_nothing(client, sent_sms):
    post(client, "/webhooks/sms/status", {"id": "prov-1", "status": "delivered"})
    replay = post(client, "/webhooks/sms/status", {"id": "prov-1", "status": "delivered"})
    late = post(client, "/webhooks/sms/status", {"id": "prov-1", "status": "failed"})
    assert replay.get_json()["changed"] is False and late.get_json()["changed"] is False
    db.session.refresh(sent_sms)
    assert sent_sms.status == "delivered"


def test_receipt_for_unknown_id_changes_nothing(client, sent_sms):
    response = post(client, "/webhooks/sms/status", {"id": "nobody", "status": "delivered"})
    assert response.status_code == 200 and response.get_json()["changed"] is False


def test_malformed_receipt_gets_400(client, sent_sms):
    assert post(client, "/webhooks/sms/status", {"id": "prov-1"}).status_code == 400


def test_stop_turns_sms_off_and_suppresses_the_number_and_start_turns_it_back_on(client, sent_sms):
    assert (
        post(
            client, "/webhooks/sms/inbound", {"from": "+447911777001", "body": " stop "}
        ).get_json()["action"]
        == "stop"
    )
    member = db.session.query(Member).one()
    assert member.sms_enabled is False
    assert db.session.query(Suppression).count() == 1
    assert (
        post(
            client, "/webhooks/sms/inbound", {"from": "+447911777001", "body": "START"}
        ).get_json()["action"]
        == "start"
    )
    db.session.refresh(member)
    assert member.sms_enabled is True
    assert db.session.query(Suppression).count() == 0


@pytest.fixture
def sent_email(app):
    bulletin = factories.sending_bulletin(1, channels="email")
    delivery = db.session.get(Delivery, bulletin.deliveries_by_channel["email"][0])
    delivery.status = "sent"
    db.session.commit()
    return delivery


def test_signed_hard_bounce_marks_bounced_and_suppresses(client, sent_email):
    from commsvc.services.members import suppression

    email = db.session.get(Member, sent_email.member_id).email
    response = post(
        client,
        "/webhooks/email/events",
        {"type": "bounce", "reference": str(sent_email.id), "reason": "550 mailbox gone"},
    )
    assert response.status_code == 200 and response.get_json()["changed"] is True
    db.session.refresh(sent_email)
    assert sent_email.status == "bounced" and sent_email.last_error == "550 mailbox gone"
    assert suppression.is_suppressed("email", email)


def test_soft_bounce_changes_nothing_and_unsigned_events_get_401(client, sent_email):
    soft = {"type": "bounce", "bounce_type": "soft", "reference": str(sent_email.id)}
    assert post(client, "/webhooks/email/events", soft).get_json()["changed"] is False
    hard = {"type": "bounce", "reference": str(sent_email.id)}
    assert post(client, "/webhooks/email/events", hard, signature="").status_code == 401
    db.session.refresh(sent_email)
    assert sent_email.status == "sent"
    assert db.session.query(Suppression).count() == 0


@pytest.mark.parametrize(
    "payload", [{"type": "opened", "reference": "1"}, {"type": "bounce"}, ["bounce"]]
)
def test_malformed_email_event_gets_400(client, sent_email, payload):
    assert post(client, "/webhooks/email/events", payload).status_code == 400
