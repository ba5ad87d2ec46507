"""One batch end to end in-process: claim, send to the real sinks, record each outcome."""

from __future__ import annotations

from commsvc.extensions import db
from commsvc.models import Delivery, DeliveryAttempt, Member
from tests import factories
from workers.gateways import email_gateway, sms_gateway
from workers.sending import send_batch


def deliveries(ids: list[int]) -> list[Delivery]:
    db.session.expire_all()
    return db.session.query(Delivery).filter(Delivery.id.in_(ids)).order_by(Delivery.id).all()


def address_of(delivery_id: int, channel: str) -> str:
    member = db.session.get(Member, db.session.get(Delivery, delivery_id).member_id)
    return member.email if channel == "email" else member.mobile


def make_due(ids: list[int]) -> None:
    """Let the backoff of these temporary failures run out now."""
    db.session.query(Delivery).filter(Delivery.id.in_(ids)).update(
        {Delivery.retry_at: Delivery.updated_at}
    )
    db.session.commit()


def test_batch_records_acceptance_with_provider_and_id(app, sms_sink):
    bulletin = factories.sending_bulletin(3, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    summary = send_batch(bulletin.id, ids, "sms", sms_gateway())
    assert summary.accepted == 3
    rows = deliveries(ids)
    assert {d.status for d in rows} == {"sent"}
    assert sorted(d.provider_id for d in rows) == sorted(m["id"] for m in sms_sink.messages)
    assert {d.provider for d in rows} == {"sms_generic"}


def test_smtp_5xx_is_permanent_failure_with_reason_and_never_retried(app, email_sink):
    bulletin = factories.sending_bulletin(2, channels="email")
    ids = bulletin.deliveries_by_channel["email"]
    email_sink.reject[address_of(ids[0], "email")] = "550 5.1.1 No such user here"
    summary = send_batch(bulletin.id, ids, "email", email_gateway())
    assert summary.failed == 1 and summary.retry_ids == []
    failed, sent = deliveries(ids)
    assert failed.status == "permanent_failure" and failed.retry_at is None
    assert "550" in failed.last_error and "No such user" in failed.last_error
    assert sent.status == "sent"
    # Sending the batch again (a redelivered task) sends nothing more.
    assert send_batch(bulletin.id, ids, "email", email_gateway()).claimed == 0
    assert len(email_sink.messages) == 1


def test_sms_4xx_is_permanent_failure(app, sms_sink):
    bulletin = factories.sending_bulletin(1, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    sms_sink.reject_numbers[address_of(ids[0], "sms")] = 400
    send_batch(bulletin.id, ids, "sms", sms_gateway())
    (row,) = deliveries(ids)
    assert row.status == "permanent_failure" and "400" in row.last_error
    assert sms_sink.messages == []


def test_temporary_failure_is_retried_until_the_bound_then_kept_with_last_reason(app, sms_sink):
    app.config["COMMSVC_MAX_ATTEMPTS"] = 2
    sms_sink.fail_every = 1  # every request answers 500
    bulletin = factories.sending_bulletin(1, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    first = send_batch(bulletin.id, ids, "sms", sms_gateway())
    assert first.retry_ids == ids
    (row,) = deliveries(ids)
    assert row.status == "temporary_failure" and row.retry_at is not None
    # A duplicate batch task before the backoff is over claims nothing.
    assert send_batch(bulletin.id, ids, "sms", sms_gateway()).claimed == 0
    make_due(ids)
    second = send_batch(bulletin.id, ids, "sms", sms_gateway())
    assert second.retry_ids == []
    (row,) = deliveries(ids)
    assert row.status == "temporary_failure" and row.retry_at is None and row.attempts == 2
    assert "500" in row.last_error
    assert db.session.query(DeliveryAttempt).filter_by(delivery_id=ids[0]).count() == 2
    # Nothing more to try: a third batch claims nothing, and the bulletin is finished.
    assert send_batch(bulletin.id, ids, "sms", sms_gateway()).claimed == 0
    assert db.session.get(type(bulletin), bulletin.id).status == "sent"


def test_counts_stay_exact_when_another_batch_finishes_the_bulletin_first(
    app, sms_sink, monkeypatch
):
    """A retry's batch commits its text as sent; before it counts its moves, another
    batch ends, finds nothing left, marks the bulletin sent and recounts (already
    seeing that text sent). The status page must still show one sent, not two."""
    from commsvc import tracking
    from commsvc.services.bulletins import lifecycle

    sms_sink.fail_every = 1
    bulletin = factories.sending_bulletin(3, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    send_batch(bulletin.id, ids, "sms", sms_gateway())
    sms_sink.fail_every = 0
    db.session.query(Delivery).filter(Delivery.id.in_(ids[1:])).update(
        {Delivery.retry_at: None}  # given up on: they stay failed, nothing ahead of them
    )
    db.session.commit()
    make_due(ids[:1])
    counted = tracking.record_moves

    def another_batch_finishes_first(bulletin_id, moves):
        lifecycle.mark_sent(bulletin_id)
        counted(bulletin_id, moves)

    monkeypatch.setattr(tracking, "record_moves", another_batch_finishes_first)
    assert send_batch(bulletin.id, ids[:1], "sms", sms_gateway()).accepted == 1
    assert tracking.counts(bulletin.id, finished=True) == {"sent": 1, "temporary_failure": 2}


def test_retry_stops_once_the_delivery_is_too_old(app, sms_sink):
    app.config["COMMSVC_RETRY_MAX_AGE_SECONDS"] = 1
    sms_sink.fail_every = 1
    bulletin = factories.sending_bulletin(1, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    from datetime import timedelta

    row = deliveries(ids)[0]
    row.created_at = row.created_at - timedelta(seconds=5)
    db.session.commit()
    assert send_batch(bulletin.id, ids, "sms", sms_gateway()).retry_ids == []
    (row,) = deliveries(ids)
    assert row.status == "temporary_failure" and row.retry_at is None


def test_throttled_message_goes_back_to_the_queue_without_counting_an_attempt(app, sms_sink):
    from workers.gateways import routing

    routing.MAX_WAIT_SECONDS, saved = 0.0, routing.MAX_WAIT_SECONDS
    try:
        sms_sink.fail_every, sms_sink.fail_status = 1, 429
        bulletin = factories.sending_bulletin(2, channels="sms")
        ids = bulletin.deliveries_by_channel["sms"]
        summary = send_batch(bulletin.id, ids, "sms", sms_gateway())
    finally:
        routing.MAX_WAIT_SECONDS = saved
    assert summary.failed == 0 and summary.released == 2
    assert {(d.status, d.attempts, d.last_error) for d in deliveries(ids)} == {("queued", 0, None)}


def test_slow_batch_does_not_send_what_the_sweep_gave_to_another_worker(app, sms_sink):
    """Mid-batch, the sweep takes the rest back and another worker claims it."""
    import time

    from commsvc.services.delivery import claims, sweeps

    app.config["COMMSVC_STUCK_AFTER_SECONDS"] = 1
    bulletin = factories.sending_bulletin(4, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    real = sms_gateway()

    class StalledAfterFirst:
        name = "sms"

        def send(self, messages, ready, still_wanted):
            for n, message in enumerate(messages):
                yield real.send_one(message, ready, still_wanted=still_wanted)
                if n == 0:
                    time.sleep(1.2)  # stalled past the stuck timeout
                    sweeps.requeue_stuck()
                    assert claims.claim(bulletin.id, ids)  # another worker's claim

        def close(self):
            real.close()

    summary = send_batch(bulletin.id, ids, "sms", StalledAfterFirst())
    assert summary.accepted == 1
    assert [m["reference"] for m in sms_sink.messages] == [str(ids[0])]
    assert [d.status for d in deliveries(ids)] == ["sent", "sending", "sending", "sending"]


def test_claimed_deliveries_are_released_when_the_acceptance_recorder_cannot_open(
    app, sms_sink, monkeypatch
):
    from commsvc.services.delivery import acceptance

    def refuse(self):
        raise acceptance.RecordingError("could not prepare the acceptance statement")

    monkeypatch.setattr(acceptance.AcceptanceRecorder, "__init__", refuse)
    bulletin = factories.sending_bulletin(3, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    summary = send_batch(bulletin.id, ids, "sms", sms_gateway())
    assert summary.released == 3 and sms_sink.messages == []
    assert {(d.status, d.attempts) for d in deliveries(ids)} == {("queued", 0)}


def test_claimed_deliveries_are_released_when_closing_the_recorder_fails(
    app, sms_sink, monkeypatch
):
    from commsvc.services.delivery import acceptance

    real_close = acceptance.AcceptanceRecorder.close

    def failing_close(self):
        real_close(self)
        raise acceptance.RecordingError("the connection broke on its way back")

    monkeypatch.setattr(acceptance.AcceptanceRecorder, "close", failing_close)
    real = sms_gateway()

    class StopsAfterFirst:
        name = "sms"

        def send(self, messages, ready, still_wanted):
            for message in messages:
                yield real.send_one(message, ready, still_wanted=still_wanted)
                return

        def close(self):
            real.close()

    bulletin = factories.sending_bulletin(3, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    summary = send_batch(bulletin.id, ids, "sms", StopsAfterFirst())
    assert summary.accepted == 1 and summary.released == 2
    assert [d.status for d in deliveries(ids)] == ["sent", "queued", "queued"]


def test_a_member_who_opted_out_after_fan_out_is_skipped_with_a_reason(app, sms_sink):
    from commsvc.services.members import preferences

    bulletin = factories.sending_bulletin(3, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    preferences.apply_sms_keyword(address_of(ids[1], "sms"), "STOP")
    summary = send_batch(bulletin.id, ids, "sms", sms_gateway())
    assert summary.accepted == 2 and summary.withheld == 1
    first, stopped, last = deliveries(ids)
    assert (stopped.status, stopped.attempts) == ("skipped", 0)
    assert stopped.last_error == "the member turned off sms"
    assert address_of(ids[1], "sms") not in {m["to"] for m in sms_sink.messages}


def test_a_stop_for_a_member_far_down_the_batch_is_honoured_when_their_turn_comes(app, sms_sink):
    """The batch rechecks the next few deliveries at a time, not the whole batch: a STOP
    for a member well past the first recheck's window still stops their text."""
    from workers.batch_members import MIN_WINDOW
    from workers.sending import PAUSE_CHECK_SECONDS

    size = 3 * MIN_WINDOW
    bulletin = factories.sending_bulletin(size, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    far = ids[-2]
    # Older than any read's life when the far member's turn comes.
    gateway = StopAfterTheFirstText(address_of(far, "sms"), pause=2 * PAUSE_CHECK_SECONDS)
    summary = send_batch(bulletin.id, ids, "sms", gateway)
    assert summary.accepted == size - 1 and summary.withheld == 1
    assert address_of(far, "sms") not in {m["to"] for m in sms_sink.messages}
    assert deliveries([far])[0].status == "skipped"


def test_a_stop_recorded_just_before_the_next_text_goes_stops_it(app, sms_sink):
    """Texts go at 30 a second: each is checked afresh just before it goes, so a STOP
    that lands while the text before it is being sent stops it (it was built already)."""
    bulletin = factories.sending_bulletin(3, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    nxt = ids[1]
    summary = send_batch(bulletin.id, ids, "sms", StopAfterTheFirstText(address_of(nxt, "sms")))
    assert summary.accepted == 2 and summary.withheld == 1
    assert address_of(nxt, "sms") not in {m["to"] for m in sms_sink.messages}
    assert deliveries([nxt])[0].status == "skipped"


class StopAfterTheFirstText:
    """The real SMS gateway, with a member's STOP recorded as soon as the batch's first
    text has gone (then, with `pause`, that long before the next)."""

    name = "sms"

    def __init__(self, mobile: str, pause: float = 0.0) -> None:
        self.real, self.mobile, self.pause = sms_gateway(), mobile, pause

    def send(self, messages, ready, still_wanted):
        import time

        from commsvc.services.members import preferences

        for n, message in enumerate(messages):
            yield self.real.send_one(message, ready, still_wanted=still_wanted)
            if n == 0:
                preferences.apply_sms_keyword(self.mobile, "STOP")
                db.session.commit()
                time.sleep(self.pause)

    def close(self):
        self.real.close()


def test_a_batch_task_counts_what_it_recorded_in_the_send_metrics(app, sms_sink, caplog):
    """What /metrics shows of a batch: its outcomes by provider, and how long each sent
    text took from the fan-out, counted from what the batch recorded (no read back)."""
    from commsvc import metrics
    from workers.tasks.send import send_sms_batch

    bulletin = factories.sending_bulletin(3, channels="sms")
    ids = bulletin.deliveries_by_channel["sms"]
    sms_sink.reject_numbers[address_of(ids[0], "sms")] = 400
    assert send_sms_batch(bulletin.id, ids) == 2
    counted = metrics.messages()
    assert counted[("sms", "sms_generic", "sent")] == 2
    assert counted[("sms", "sms_generic", "permanent_failure")] == 1
    buckets, seconds = metrics.latency()["sms"]
    assert dict(buckets)["+Inf"] == 2 and dict(buckets)["3600"] == 2
    assert 0 <= seconds < 3600
    failed = [r for r in caplog.records if r.getMessage() == "delivery permanent failure"]
    assert [r.delivery_id for r in failed] == [ids[0]] and "400" in failed[0].reason
