"""Acceptances recorded during a batch: each one is in the database, for everyone to
see, by the time the gateway may hand over the next message."""

from __future__ import annotations

from sqlalchemy import create_engine, text

from commsvc.extensions import db
from commsvc.services.delivery import claims
from commsvc.services.delivery.acceptance import AcceptanceRecorder
from tests import factories


def _statuses_seen_by_another_process(ids: list[int]) -> dict[int, str]:
    """Read through a connection of its own, as the stuck sweep on another machine would."""
    engine = create_engine(db.engine.url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT id, status FROM deliveries")).all()
            return {delivery_id: status for delivery_id, status in rows if delivery_id in ids}
    finally:
        engine.dispose()


def test_each_acceptance_is_visible_to_others_once_settled(app):
    bulletin = factories.sending_bulletin(3, channels="email")
    ids = bulletin.deliveries_by_channel["email"]
    claims.claim(bulletin.id, ids)
    recorder = AcceptanceRecorder()
    try:
        recorder.record(ids[0], "smtp:sink#0", "id-1")
        recorder.settle()  # what the gateway does before the next message can go
        assert _statuses_seen_by_another_process(ids) == {
            ids[0]: "sent",
            ids[1]: "sending",
            ids[2]: "sending",
        }
        recorder.record(ids[1], "smtp:sink#0", None)
        recorder.record(ids[1], "smtp:sink#0", None)  # twice: still sent once, no error
    finally:
        recorder.close()  # settles the last one
    seen = _statuses_seen_by_another_process(ids)
    assert seen == {ids[0]: "sent", ids[1]: "sent", ids[2]: "sending"}
    db.session.expire_all()
    assert claims.record_accepted(ids[0], "smtp", None) is False  # already sent


def test_a_delivery_not_claimed_is_not_marked_sent(app):
    bulletin = factories.sending_bulletin(1, channels="email")
    (delivery_id,) = bulletin.deliveries_by_channel["email"]
    recorder = AcceptanceRecorder()
    try:
        recorder.record(delivery_id, "smtp:sink#0", None)
    finally:
        recorder.close()
    assert _statuses_seen_by_another_process([delivery_id]) == {delivery_id: "queued"}


def test_the_pooled_connection_goes_back_as_it_was_lent(app):
    for _ in range(3):  # the statement is prepared on a pooled connection each batch
        recorder = AcceptanceRecorder()
        recorder.close()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as connection:
            assert connection.execute(text("SHOW synchronous_commit")).scalar() == "on"
