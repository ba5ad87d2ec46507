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
