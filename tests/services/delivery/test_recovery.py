"""Beat's quick recovery (services/delivery/recovery.py) and the claim token's fence,
and how an unconfirmed send is recorded (issue 12, items 2, 5 and 15)."""

from __future__ import annotations

from datetime import timedelta

from commsvc import liveness, metrics, redis_store
from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery, DeliveryAttempt
from commsvc.models.base import utcnow
from commsvc.services.delivery import claims, recovery, sweeps
from commsvc.statuses import DeliveryStatus
from tests import factories
from workers.gateways import sms_gateway
from workers.sending import send_batch

GONE = "celery@gone/4242"


def claim_as(bulletin_id: int, ids: list[int], holder: str, seconds_ago: int) -> str:
    token = f"{holder}#abc"
    assert claims.claim(bulletin_id, ids, utcnow() - timedelta(seconds=seconds_ago), token)
    return token


def statuses(ids: list[int]) -> list[str]:
    db.session.expire_all()
    return [db.session.get(Delivery, i).status for i in ids]


def test_a_silent_workers_old_claims_are_taken_back_and_fenced(app, sms_sink):
    app.config["COMMSVC_WORKER_DEAD_AFTER_SECONDS"] = 60
    bulletin = factories.sending_bulletin(2, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    old_token = claim_as(bulletin.id, ids, GONE, seconds_ago=90)
    assert sweeps.requeue_stuck() >= 1  # long before the stuck sweep's 600 s
    assert statuses(ids) == ["queued", "queued"]
    new_token = f"{GONE}-successor#def"
    assert claims.claim(bulletin.id, ids, token=new_token)  # another worker takes them
    # The old worker comes back: it can record nothing for what was taken.
    assert not claims.record_accepted_on(db.session(), ids[0], "sms", "x", old_token)
    failure = claims.Failure(ids[1], True, "late refusal", "sms", claim_token=old_token)
    assert claims.record_failure(failure, 1, 5) == DeliveryStatus.SENDING
    db.session.commit()
    assert statuses(ids) == ["sending", "sending"]
    assert db.session.query(DeliveryAttempt).count() == 0
    assert claims.record_accepted_on(db.session(), ids[0], "sms", "y", new_token)
    db.session.commit()
    assert statuses(ids) == ["sent", "sending"]


def test_a_live_workers_claims_and_young_claims_are_left_alone(app, sms_sink):
    app.config["COMMSVC_WORKER_DEAD_AFTER_SECONDS"] = 60
    bulletin = factories.sending_bulletin(3, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    metrics.beat("celery@alive/1")  # its heartbeat is fresh
    claim_as(bulletin.id, ids[:1], "celery@alive/1", seconds_ago=90)
    claim_as(bulletin.id, ids[1:2], GONE, seconds_ago=10)  # silent, but only just claimed
    claim_as(bulletin.id, ids[2:], "", seconds_ago=90)  # not a worker's: the stuck sweep's
    assert recovery.take_back_dead_claims() == set()
    assert statuses(ids) == ["sending"] * 3


def test_claims_in_a_worker_carry_its_heartbeats_name():
    liveness.set_identity("celery@here")
    try:
        assert liveness.holder_of(liveness.new_claim_token()) == liveness.identity()
        assert liveness.identity().startswith("celery@here/")
    finally:
        liveness._state["identity"] = None
    assert liveness.holder_of(liveness.new_claim_token()) == ""


def test_a_fan_out_lost_before_it_ran_is_queued_again_once(app):
    app.config["COMMSVC_FANOUT_LOST_AFTER_SECONDS"] = 60
    bulletin = factories.sending_bulletin(3, channels="email")
    row = db.session.get(Bulletin, bulletin.id)
    row.fanned_out_at = None  # as if its fan-out task never ran
    db.session.query(Delivery).filter_by(bulletin_id=bulletin.id).delete()
    db.session.commit()
    assert recovery.requeue_lost_fanouts() == []  # just started: give it time
    for transition in row_transitions(bulletin.id):
        transition.at -= timedelta(seconds=120)
    db.session.commit()
    assert recovery.requeue_lost_fanouts() == [bulletin.id]
    assert recovery.requeue_lost_fanouts() == []  # not again while that one may run
    redis_store.client().flushdb()  # Redis lost again: so is the re-queued task
    assert recovery.requeue_lost_fanouts() == [bulletin.id]


def row_transitions(bulletin_id: int):
    from commsvc.models import BulletinTransition

    return db.session.query(BulletinTransition).filter_by(bulletin_id=bulletin_id).all()


def test_an_unconfirmed_sms_is_a_temporary_failure_with_no_retry_and_the_bulletin_ends(
    app, sms_sink
):
    app.config["COMMSVC_HTTP_TIMEOUT_SECONDS"] = 0.3
    sms_sink.hang_every = 2  # the second request hangs past the read timeout
    sms_sink.hang_seconds = 1.0
    bulletin = factories.sending_bulletin(3, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    summary = send_batch(bulletin.id, ids, "sms", sms_gateway())
    assert summary.accepted == 2 and summary.retry_ids == []
    assert sms_sink.requests == 3  # nothing was sent twice, nor to another provider
    db.session.expire_all()
    unconfirmed = db.session.get(Delivery, ids[1])
    assert unconfirmed.status == "temporary_failure" and unconfirmed.retry_at is None
    assert "outcome unknown" in unconfirmed.last_error
    assert db.session.get(Bulletin, bulletin.id).status == "sent"
    assert sweeps.requeue_stuck() == 0  # and no sweep sends it again
