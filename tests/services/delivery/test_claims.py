"""The database side of sending: the claim is atomic, retries back off within bounds."""

from __future__ import annotations

import pytest

from commsvc.extensions import db
from commsvc.models import Delivery
from commsvc.services.delivery import claims
from tests import factories


def test_a_delivery_is_claimed_once_however_many_workers_ask(app):
    bulletin = factories.sending_bulletin(3, channels="email")
    ids = bulletin.deliveries_by_channel["email"]
    first = claims.claim(bulletin.id, ids)
    second = claims.claim(bulletin.id, ids)
    assert sorted(first) == ids and second == {}
    assert set(first.values()) == {1}  # one attempt each


def test_release_gives_back_unattempted_deliveries_without_counting_an_attempt(app):
    bulletin = factories.sending_bulletin(2, channels="email")
    ids = bulletin.deliveries_by_channel["email"]
    claims.claim(bulletin.id, ids)
    claims.release(ids)
    db.session.expire_all()
    assert {(d.status, d.attempts) for d in db.session.query(Delivery)} == {("queued", 0)}
    assert sorted(claims.claim(bulletin.id, ids)) == ids


def test_acceptance_is_recorded_only_for_a_claimed_delivery(app):
    bulletin = factories.sending_bulletin(1, channels="email")
    (delivery_id,) = bulletin.deliveries_by_channel["email"]
    assert claims.record_accepted(delivery_id, "smtp", None) is False  # never claimed
    claims.claim(bulletin.id, [delivery_id])
    assert claims.record_accepted(delivery_id, "smtp", "abc") is True
    assert claims.record_accepted(delivery_id, "smtp", "abc") is False  # only once


@pytest.mark.parametrize("attempts", [1, 2, 3, 5, 8, 20])
def test_retry_delay_doubles_with_jitter_and_stays_under_the_cap(app, attempts):
    app.config["COMMSVC_RETRY_BASE_SECONDS"] = 10
    ceiling = min(claims.RETRY_CAP_SECONDS, 10 * 2 ** (attempts - 1))
    delays = {claims.retry_delay(attempts) for _ in range(50)}
    assert all(ceiling / 2 <= d <= ceiling for d in delays)
    assert len(delays) > 1  # jitter: workers retrying together spread out


def test_the_last_batch_finishes_a_bulletin_its_fan_out_marked_fanned_out_meanwhile(app):
    """A batch that loaded its bulletin before the fan-out ended, and ends after the
    fan-out's own check (which saw the batch still sending), must still mark it sent."""
    from sqlalchemy.orm import Session

    from commsvc.models import Bulletin
    from commsvc.models.base import utcnow

    bulletin = factories.sending_bulletin(2, channels="email")
    ids = bulletin.deliveries_by_channel["email"]
    with Session(db.engine) as fan_out:  # the fan-out ends before the batch has claimed
        fan_out.get(Bulletin, bulletin.id).fanned_out_at = None
        fan_out.commit()
    db.session.expire_all()  # a batch task starts with a session of its own
    batch_view = db.session.get(Bulletin, bulletin.id)
    assert batch_view.fanned_out_at is None  # what the batch loaded when it started
    claims.claim(bulletin.id, ids)
    assert batch_view.fanned_out_at is None  # refreshed by the batch after its claim
    with Session(db.engine) as fan_out:
        fan_out.get(Bulletin, bulletin.id).fanned_out_at = utcnow()
        fan_out.commit()
    assert claims.finish_if_done(bulletin.id) is False  # the fan-out's check: still sending
    for delivery_id in ids:  # the batch's acceptances, on their own connection
        with db.engine.begin() as connection:
            claims.record_accepted_on(connection, delivery_id, "smtp", None, None)
    assert claims.finish_if_done(bulletin.id) is True  # the batch's check at its end
    db.session.expire_all()
    assert db.session.get(Bulletin, bulletin.id).status == "sent"
