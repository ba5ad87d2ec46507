"""Beat's quick recovery (services/delivery/recovery.py) and the claim token's fence,
and how an unconfirmed send is recorded (issue 12, items 2, 5 and 15)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Connection, text, update

from commsvc import liveness, metrics, redis_store
from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery, DeliveryAttempt
from commsvc.models.base import utcnow
from commsvc.services.bulletins import lifecycle
from commsvc.services.delivery import claims, lock_waits, recovery, sweeps
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


class FrozenWorker:
    """A worker frozen or cut off between an UPDATE and its COMMIT: it holds row locks."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def hold(self, delivery_id: int) -> None:
        statement = update(Delivery).where(Delivery.id == delivery_id).values(last_error="x")
        self.connection.execute(statement)

    def let_go(self) -> None:
        """Its connection died at last: PostgreSQL rolls its transaction back."""
        self.connection.rollback()


@pytest.fixture
def frozen_worker(app, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite's one lock is bounded by its busy timeout")
    monkeypatch.setattr(lock_waits, "LOCK_WAIT_MS", 200)
    with db.engine.connect() as connection:
        yield FrozenWorker(connection)
        connection.rollback()


def test_rows_a_frozen_worker_holds_delay_no_other_bulletin_and_come_back_later(
    app, sms_sink, frozen_worker
):
    app.config["COMMSVC_WORKER_DEAD_AFTER_SECONDS"] = 60
    held = factories.sending_bulletin(2, channels="sms")
    other = factories.sending_bulletin(2, channels="sms")
    held_ids, other_ids = held.deliveries_by_channel["sms"], other.deliveries_by_channel["sms"]
    claim_as(held.id, held_ids, GONE, seconds_ago=90)
    claim_as(other.id, other_ids, GONE, seconds_ago=90)
    frozen_worker.hold(held_ids[0])
    assert sweeps.requeue_stuck() >= 1  # it returns: it used to wait as long as the lock
    assert set(statuses(other_ids)) == {"queued"}
    assert statuses(held_ids) == ["sending", "sending"]  # left for the next sweep, not lost
    frozen_worker.let_go()
    sweeps.requeue_stuck()
    assert statuses(held_ids) == ["queued", "queued"]


def test_the_database_gives_up_on_a_silent_worker_connection_within_minutes(app, frozen_worker):
    """A lost worker host's row locks last as long as its connection, which with the
    kernel's keepalives is two hours. Every connection of ours asks PostgreSQL to probe
    it after a minute of silence and drop it when six probes go unanswered, so the
    host's deliveries are back for the sweeps within about two minutes, with nothing to
    set on the server. (Measured across a cut network link: README, workers on several
    machines.)"""
    idle, interval, count = frozen_worker.connection.execute(
        text(
            "SELECT current_setting('tcp_keepalives_idle')::int,"
            " current_setting('tcp_keepalives_interval')::int,"
            " current_setting('tcp_keepalives_count')::int"
        )
    ).one()
    assert (idle, interval, count) == (60, 10, 6)
    assert db.session.scalar(text("SHOW tcp_keepalives_idle")) == "60"  # and the session's


def test_a_cancelled_bulletins_row_held_by_a_frozen_worker_delays_no_schedule(app, frozen_worker):
    cancelled = factories.sending_bulletin(2, channels="sms")
    db.session.get(Bulletin, cancelled.id).status = "cancelled"
    scheduled = factories.bulletin(cancelled.partnership_id)
    lifecycle.send(factories.organiser(), scheduled, utcnow() + timedelta(hours=1))
    scheduled.scheduled_for = utcnow() - timedelta(minutes=1)
    db.session.commit()
    frozen_worker.hold(cancelled.deliveries_by_channel["sms"][0])
    assert sweeps.start_due_bulletins() == 1
    assert db.session.get(Bulletin, scheduled.id).status == "sending"
    frozen_worker.let_go()
    sweeps.start_due_bulletins()
    assert statuses(cancelled.deliveries_by_channel["sms"]) == ["skipped", "skipped"]
