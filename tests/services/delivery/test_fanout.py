"""Fan-out: every audience member gets one delivery per channel and lands in exactly one
batch, however often fan-out runs; batches go to the real Redis broker."""

from __future__ import annotations

import base64
import json
from datetime import datetime

import pytest
import redis
from sqlalchemy import func, insert, select, text

from commsvc import tracking
from commsvc.extensions import db
from commsvc.models import Bulletin, Delivery, Member
from commsvc.models.base import utcnow
from commsvc.services.accounts import actors
from commsvc.services.bulletins import composing, lifecycle
from commsvc.services.delivery import fanout, fanout_writes
from tests import factories


def sending_bulletin(members: int, channels: list[str], opted_out: int = 0) -> Bulletin:
    partnership = factories.partnership()
    factories.topics("bargaining", "campaigns")
    rows = [factories.member_row(channels="email;sms") for _ in range(members)]
    rows += [factories.member_row(topics="campaigns") for _ in range(opted_out)]
    assert factories.import_rows(rows).ok
    bulletin = composing.create_bulletin(
        actors.SYSTEM, factories.bulletin_body(partnership.id, channels=channels)
    )
    lifecycle.send(actors.SYSTEM, bulletin)
    return bulletin


def enqueued_batches(redis_url: str, queue: str) -> list[list[int]]:
    """The delivery ids of each batch task waiting in a broker queue."""
    batches = []
    for raw in redis.Redis.from_url(redis_url).lrange(queue, 0, -1):
        body = json.loads(base64.b64decode(json.loads(raw)["body"]))
        args = body[0]
        batches.append(args[1])
    return batches


def deliveries(bulletin_id: int) -> list[Delivery]:
    return list(db.session.scalars(select(Delivery).where(Delivery.bulletin_id == bulletin_id)))


def test_each_member_lands_in_exactly_one_batch(app, redis_url):
    app.config["COMMSVC_BATCH_SIZE"] = 200
    bulletin = sending_bulletin(450, ["email"])

    assert fanout.fan_out(bulletin.id) == 3
    batches = enqueued_batches(redis_url, "email")
    assert sorted(len(b) for b in batches) == [50, 200, 200]
    ids = sorted(i for b in batches for i in b)
    assert ids == sorted(d.id for d in deliveries(bulletin.id))
    assert len({d.member_id for d in deliveries(bulletin.id)}) == 450


def test_a_fan_out_in_many_chunks_batches_every_member_once(app, redis_url, monkeypatch):
    # Chunks of 7, 28, 112 and 448 members, the later ones written by parallel writers
    # on PostgreSQL (one of which refreshes the statistics part-way): full batches
    # throughout, one partial batch at the end.
    app.config["COMMSVC_BATCH_SIZE"] = 7
    monkeypatch.setattr(fanout_writes, "ANALYZE_AFTER_DELIVERIES", 100)
    bulletin = sending_bulletin(300, ["email"])

    assert fanout.fan_out(bulletin.id) == 43
    batches = enqueued_batches(redis_url, "email")
    assert sorted(len(b) for b in batches) == [6] + [7] * 42
    ids = sorted(i for b in batches for i in b)
    assert ids == sorted(d.id for d in deliveries(bulletin.id))
    assert len({d.member_id for d in deliveries(bulletin.id)}) == 300
    assert tracking.counts(bulletin.id) == {"queued": 300}


def test_members_who_opted_out_are_skipped_and_never_batched(app, redis_url):
    bulletin = sending_bulletin(30, ["email", "sms"], opted_out=10)

    fanout.fan_out(bulletin.id)
    rows = deliveries(bulletin.id)
    skipped = {d.id for d in rows if d.status == "skipped"}
    assert len(skipped) == 20  # ten members, two channels each
    batched = {i for q in ("email", "sms") for b in enqueued_batches(redis_url, q) for i in b}
    assert len(batched) == 60
    assert not batched & skipped
    # Each one says why, so the report can tell the organiser.
    reasons = {d.last_error for d in rows if d.status == "skipped"}
    assert reasons == {"the member is not subscribed to this topic"}
    assert all(d.last_error is None for d in rows if d.status == "queued")


def test_live_counts_match_the_database_after_fan_out(app):
    bulletin = sending_bulletin(120, ["email", "sms"], opted_out=5)

    fanout.fan_out(bulletin.id)
    assert tracking.counts(bulletin.id) == {"queued": 240, "skipped": 10}
    assert tracking.counts_from_database(bulletin.id) == {"queued": 240, "skipped": 10}


def test_running_fan_out_again_creates_nothing_twice(app):
    bulletin = sending_bulletin(50, ["email", "sms"])

    fanout.fan_out(bulletin.id)
    fanout.fan_out(bulletin.id)
    count = db.session.scalar(
        select(func.count()).select_from(Delivery).where(Delivery.bulletin_id == bulletin.id)
    )
    assert count == 100


def test_fan_out_interrupted_part_way_batches_every_waiting_delivery_on_rerun(app, redis_url):
    bulletin = sending_bulletin(60, ["email"])
    # What a fan-out killed after its first chunk leaves: rows, no batches, no mark.
    _queued_rows_of_another_run(bulletin.id, members=25)

    fanout.fan_out(bulletin.id)
    batched = sorted(i for b in enqueued_batches(redis_url, "email") for i in b)
    assert batched == sorted(d.id for d in deliveries(bulletin.id))
    assert len(batched) == 60
    assert tracking.counts(bulletin.id) == {"queued": 60}


def test_fan_out_racing_another_run_of_itself_writes_each_row_once(app, redis_url, monkeypatch):
    bulletin = sending_bulletin(60, ["email"])
    # Another run wrote these after this one looked and found none (a redelivered task).
    _queued_rows_of_another_run(bulletin.id, members=25)
    theirs = {d.id for d in deliveries(bulletin.id)}
    monkeypatch.setattr(fanout, "_has_deliveries", lambda _bulletin_id: False)

    fanout.fan_out(bulletin.id)

    rows = deliveries(bulletin.id)
    assert len(rows) == 60
    assert len({d.member_id for d in rows}) == 60
    batched = [i for b in enqueued_batches(redis_url, "email") for i in b]
    assert len(batched) == len(set(batched)) == 35  # its own rows; the other run batches its
    assert not set(batched) & theirs


def _queued_rows_of_another_run(bulletin_id: int, members: int) -> None:
    """Queued email rows for the first members, as another run of the fan-out writes
    them: no batches enqueued, the bulletin not marked fanned out."""
    first_members = db.session.scalars(select(Member.id).order_by(Member.id).limit(members))
    now = utcnow()
    db.session.execute(
        insert(Delivery),
        [
            {"bulletin_id": bulletin_id, "member_id": m, "channel": "email", "status": "queued"}
            | {"attempts": 0, "created_at": now, "updated_at": now}
            for m in first_members
        ],
    )
    db.session.commit()


def test_a_large_fan_out_refreshes_postgresqls_statistics_before_the_claims(app, monkeypatch):
    """Without them every batch's claim was planned as a scan of the bulletin's queued
    rows: at 1,000,000 members a third of the send's rate went there."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("planner statistics are PostgreSQL's; SQLite has no ANALYZE here")
    monkeypatch.setattr(fanout_writes, "ANALYZE_AFTER_DELIVERIES", 1)
    bulletin = sending_bulletin(30, ["email"])
    before = _last_analyzed("deliveries")

    fanout.fan_out(bulletin.id)
    after = _last_analyzed("deliveries")
    assert after is not None and (before is None or after > before)


def _last_analyzed(table: str) -> datetime | None:
    db.session.commit()  # statistics views answer from a snapshot per transaction
    return db.session.scalar(
        text("SELECT last_analyze FROM pg_stat_user_tables WHERE relname = :table"),
        {"table": table},
    )
