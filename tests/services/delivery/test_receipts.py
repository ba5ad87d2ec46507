"""Receipts move deliveries forward only; words meaning "still on its way" change nothing."""

from __future__ import annotations

import pytest

from commsvc.extensions import db
from commsvc.models import Delivery
from commsvc.services.delivery import receipts
from tests import factories


def delivery(channel: str, status: str, provider_id: str) -> Delivery:
    bulletin = factories.sending_bulletin(1, channels=channel)
    row = db.session.get(Delivery, bulletin.deliveries_by_channel[channel][0])
    row.status, row.provider_id = status, provider_id
    db.session.commit()
    return row


@pytest.mark.parametrize("word", ["queued", "sent", "sending", "accepted", "buffered", "unknown"])
def test_in_transit_words_change_nothing(app, word):
    row = delivery("sms", "sent", "p-1")
    assert receipts.apply_sms_receipt("p-1", None, word, None) is False
    db.session.refresh(row)
    assert row.status == "sent"


def test_receipt_is_found_by_reference_when_the_provider_id_is_unknown(app):
    row = delivery("sms", "sent", "p-2")
    assert receipts.apply_sms_receipt(None, str(row.id), "DELIVERED", None) is True
    db.session.refresh(row)
    assert row.status == "delivered" and row.delivered_at is not None


def test_an_sms_receipt_never_touches_an_email_delivery(app):
    row = delivery("email", "sent", "shared-id")
    assert receipts.apply_sms_receipt("shared-id", None, "failed", "x") is False
    db.session.refresh(row)
    assert row.status == "sent"


def test_hard_bounce_after_delivered_still_bounces(app):
    row = delivery("email", "delivered", "e-1")
    assert receipts.apply_email_event("e-1", None, "bounce", hard=True, reason="late bounce")
    db.session.refresh(row)
    assert row.status == "bounced"


def test_failed_delivery_does_not_become_delivered(app):
    row = delivery("sms", "permanent_failure", "p-3")
    assert receipts.apply_sms_receipt("p-3", None, "delivered", None) is False
    db.session.refresh(row)
    assert row.status == "permanent_failure"


def test_receipt_arriving_before_the_acceptance_is_committed_waits_for_it(app):
    import threading
    import time

    from commsvc.services.delivery import claims

    row = delivery("sms", "sending", "p-4")
    row_id = row.id

    def accept_a_moment_later() -> None:
        with app.app_context():
            time.sleep(0.3)
            claims.record_accepted(row_id, "sms_generic", "p-4")

    worker = threading.Thread(target=accept_a_moment_later)
    worker.start()
    try:
        assert receipts.apply_sms_receipt(None, str(row_id), "delivered", None) is True
    finally:
        worker.join(timeout=10)
    db.session.expire_all()
    assert db.session.get(Delivery, row_id).status == "delivered"


def accepted_by(provider: str, provider_id: str) -> Delivery:
    row = delivery("sms", "sent", provider_id)
    row.provider = provider
    db.session.commit()
    return row


def test_a_receipt_moves_only_its_own_providers_delivery(app):
    twilio = accepted_by("twilio", "shared-7")
    vonage = accepted_by("vonage", "shared-7")
    assert receipts.apply_sms_receipt("shared-7", None, "failed", "x", provider_kind="vonage")
    db.session.expire_all()
    assert db.session.get(Delivery, twilio.id).status == "sent"
    assert db.session.get(Delivery, vonage.id).status == "permanent_failure"


def test_a_provider_id_shared_by_two_deliveries_needs_the_reference_to_choose(app):
    first = accepted_by("sms_generic", "dup-1")
    second = accepted_by("sms_generic", "dup-1")
    assert receipts.apply_sms_receipt("dup-1", None, "delivered", None) is False
    assert receipts.apply_sms_receipt("dup-1", str(second.id), "delivered", None) is True
    db.session.expire_all()
    assert db.session.get(Delivery, first.id).status == "sent"
    assert db.session.get(Delivery, second.id).status == "delivered"


def test_a_reference_naming_a_delivery_with_another_provider_id_moves_nothing(app):
    row = accepted_by("sms_generic", "p-own")
    assert receipts.apply_sms_receipt("p-other", str(row.id), "failed", "x") is False
    assert receipts.apply_sms_receipt(None, str(row.id), "failed", "x", "twilio") is False
    db.session.refresh(row)
    assert row.status == "sent"


def test_a_delivered_receipt_records_no_failure_reason(app):
    from commsvc.models import DeliveryAttempt

    row = accepted_by("vonage", "v-9")
    assert receipts.apply_sms_receipt("v-9", None, "delivered", None)
    attempt = db.session.query(DeliveryAttempt).filter_by(delivery_id=row.id).one()
    db.session.refresh(row)
    assert (row.status, row.last_error) == ("delivered", None)
    assert (attempt.outcome, attempt.reason) == ("delivered", None)
