"""Live counters in Redis: kept per batch, rebuilt from the database when Redis lost them."""

from __future__ import annotations

from commsvc import redis_store, tracking
from tests import factories
from workers.gateways import sms_gateway
from workers.sending import send_batch


def test_counts_survive_a_flushed_redis_by_rebuilding_from_the_database(app, client, sms_sink):
    bulletin = factories.sending_bulletin(4, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    send_batch(bulletin.id, ids[:3], "sms", sms_gateway())
    headers = factories.api_key()
    before = client.get(f"/api/v1/bulletins/{bulletin.id}", headers=headers).get_json()
    assert before["counts"] == {"sent": 3, "queued": 1}

    redis_store.client().flushdb()
    after = client.get(f"/api/v1/bulletins/{bulletin.id}", headers=headers).get_json()
    assert after["counts"] == {"sent": 3, "queued": 1}
    assert after["progress"] == before["progress"]
    # Rebuilt into Redis: further batches count on from there.
    send_batch(bulletin.id, ids[3:], "sms", sms_gateway())
    assert tracking.counts(bulletin.id) == {"sent": 4}


def test_counts_move_with_each_batch_without_a_database_count(app, sms_sink):
    bulletin = factories.sending_bulletin(2, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    key = f"commsvc:bulletin:{bulletin.id}:counts"
    assert redis_store.client().hget(key, "queued") == "2"
    send_batch(bulletin.id, ids, "sms", sms_gateway())
    assert redis_store.client().hget(key, "sent") == "2"
    assert tracking.counts(bulletin.id) == {"sent": 2}


def test_counts_that_went_wrong_are_rebuilt_before_an_organiser_sees_them(app, client, sms_sink):
    bulletin = factories.sending_bulletin(3, channels="sms")
    send_batch(bulletin.id, bulletin.deliveries_by_channel["sms"], "sms", sms_gateway())
    key = f"commsvc:bulletin:{bulletin.id}:counts"
    # A straggling batch's late increments: negative and "still sending" on a sent bulletin.
    redis_store.client().hincrby(key, "queued", -2)
    redis_store.client().hincrby(key, "sending", 2)
    shown = client.get(f"/api/v1/bulletins/{bulletin.id}", headers=factories.api_key())
    assert shown.get_json()["status"] == "sent"
    assert shown.get_json()["counts"] == {"sent": 3}


def test_a_receipt_landing_while_counts_are_rebuilt_is_not_lost(app, client, sms_sink, monkeypatch):
    """The last batch finishing rebuilds the counters just as the gateway's receipts
    arrive: a receipt applied between the count and the write must still show."""
    from commsvc.services.delivery import receipts

    bulletin = factories.sending_bulletin(2, channels="sms")
    first, second = bulletin.deliveries_by_channel["sms"]
    send_batch(bulletin.id, [first, second], "sms", sms_gateway())
    counted = tracking.counts_from_database
    receipt_during_count = [first]

    def count_then_receipt_arrives(bulletin_id: int) -> dict[str, int]:
        found = counted(bulletin_id)
        if receipt_during_count:
            delivery_id = receipt_during_count.pop()
            assert receipts.apply_sms_receipt(None, str(delivery_id), "delivered", None)
        return found

    monkeypatch.setattr(tracking, "counts_from_database", count_then_receipt_arrives)
    tracking.rebuild(bulletin.id)
    monkeypatch.undo()
    shown = client.get(f"/api/v1/bulletins/{bulletin.id}", headers=factories.api_key())
    assert shown.get_json()["counts"] == {"delivered": 1, "sent": 1}
