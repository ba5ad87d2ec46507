"""The stuck sweep (services/sweeps.requeue_stuck): what a dead worker or a lost
broker left behind is queued again; nothing accepted is ever queued again."""

from __future__ import annotations

from datetime import timedelta

from commsvc import queueing, tracking
from commsvc.extensions import db
from commsvc.models import Delivery
from commsvc.models.base import utcnow
from commsvc.services.delivery import claims, sweeps
from tests import factories
from workers.gateways import sms_gateway
from workers.sending import send_batch


def age(ids: list[int], seconds: int) -> None:
    for delivery in db.session.query(Delivery).filter(Delivery.id.in_(ids)):
        delivery.claimed_at = delivery.updated_at = delivery.updated_at - timedelta(seconds=seconds)
    db.session.commit()


def statuses(ids: list[int]) -> list[str]:
    db.session.expire_all()
    return [db.session.get(Delivery, i).status for i in ids]


def test_delivery_left_sending_by_a_dead_worker_is_queued_again_and_then_sent(app, sms_sink):
    app.config["COMMSVC_STUCK_AFTER_SECONDS"] = 60
    bulletin = factories.sending_bulletin(3, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    send_batch(bulletin.id, ids[:1], "sms", sms_gateway())  # accepted and recorded
    claims.claim(bulletin.id, ids[1:])  # a worker claimed these, then died
    assert sweeps.requeue_stuck() == 0  # not stuck yet
    age(ids, 120)
    assert sweeps.requeue_stuck() >= 1
    assert statuses(ids) == ["sent", "queued", "queued"]
    send_batch(bulletin.id, ids, "sms", sms_gateway())
    assert sorted(m["reference"] for m in sms_sink.messages) == sorted(str(i) for i in ids)
    assert tracking.counts(bulletin.id) == {"sent": 3}


def test_a_batch_whose_deliveries_were_swept_can_neither_send_nor_release_them(app, sms_sink):
    """A stalled batch must not send what the sweep has handed to another worker."""
    app.config["COMMSVC_STUCK_AFTER_SECONDS"] = 60
    bulletin = factories.sending_bulletin(2, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    stalled = utcnow() - timedelta(seconds=120)
    assert claims.claim(bulletin.id, ids, stalled)
    sweeps.requeue_stuck()
    assert claims.claim(bulletin.id, ids)  # the new owner
    assert claims.renew_claim(ids, stalled)[1] == set()  # none of them is the old batch's
    claims.release(ids, stalled)
    assert statuses(ids) == ["sending", "sending"]  # still the new owner's


def test_retry_whose_task_was_lost_is_queued_again(app, sms_sink):
    app.config["COMMSVC_STUCK_AFTER_SECONDS"] = 60
    sms_sink.fail_every = 1
    bulletin = factories.sending_bulletin(1, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    send_batch(bulletin.id, ids, "sms", sms_gateway())
    row = db.session.get(Delivery, ids[0])
    row.retry_at = row.retry_at - timedelta(seconds=600)  # its countdown task vanished
    db.session.commit()
    assert sweeps.requeue_stuck() == 1
    sms_sink.fail_every = 0
    send_batch(bulletin.id, ids, "sms", sms_gateway())
    assert [m["reference"] for m in sms_sink.messages] == [str(ids[0])]


def test_queued_rows_whose_batch_still_waits_in_the_broker_are_left_in_line(app, sms_sink):
    """A long send held to a provider's rate outlasts the stuck timeout with its batches
    still waiting; the sweep must not queue them all again (that doubles the line), but
    once the line is gone (a Redis that lost it), it must."""
    app.config["COMMSVC_STUCK_AFTER_SECONDS"] = 60
    bulletin = factories.sending_bulletin(3, channels="sms")  # no worker: its batch waits
    ids = bulletin.deliveries_by_channel["sms"]
    age(ids, 120)
    waiting = queueing.backlog("sms")
    assert waiting >= 1
    assert sweeps.requeue_stuck() == 0
    assert queueing.backlog("sms") == waiting
    with app.extensions["celery"].connection_for_write() as connection:
        connection.default_channel.queue_purge("sms")  # the line is lost
    assert sweeps.requeue_stuck() == 1
    assert queueing.backlog("sms") == 1
    send_batch(bulletin.id, ids, "sms", sms_gateway())
    assert sorted(m["reference"] for m in sms_sink.messages) == sorted(str(i) for i in ids)
